"""Split a batch job's output window into chunk windows on the same pixel grid."""

from __future__ import annotations

from dataclasses import dataclass

from ..window import Window


@dataclass(frozen=True)
class Chunk:
    """One piece of the output: its pixel offsets in the output and its own window."""

    index: int
    col_off: int
    row_off: int
    window: Window

    @property
    def width(self) -> int:
        """Columns of the chunk."""
        return self.window.width

    @property
    def height(self) -> int:
        """Rows of the chunk."""
        return self.window.height

    def describe(self, total: int) -> str:
        """Name the chunk for an error message: its number and pixel ranges."""
        last_col = self.col_off + self.width - 1
        last_row = self.row_off + self.height - 1
        return (
            f"chunk {self.index + 1} of {total} (columns {self.col_off}-{last_col}, "
            f"rows {self.row_off}-{last_row})"
        )


def split_window(window: Window, size: int) -> list[Chunk]:
    """Cut ``window`` into chunks of at most ``size`` x ``size`` pixels, row by row.

    Each chunk's bounds come from the output's affine transform, so every chunk lies
    exactly on the output's pixel grid and the chunks tile it without gaps or overlaps.
    """
    if size < 1:
        raise ValueError(f"chunk size must be positive, got {size}")
    transform = window.transform
    chunks: list[Chunk] = []
    for row_off in range(0, window.height, size):
        rows = min(size, window.height - row_off)
        for col_off in range(0, window.width, size):
            cols = min(size, window.width - col_off)
            left, top = transform * (col_off, row_off)
            right, bottom = transform * (col_off + cols, row_off + rows)
            sub = Window(window.crs, (left, bottom, right, top), cols, rows, window.times)
            chunks.append(Chunk(len(chunks), col_off, row_off, sub))
    return chunks
