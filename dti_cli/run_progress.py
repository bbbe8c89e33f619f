"""What ``dti run`` and ``dti demo`` show while Dagster works: each step (asset) in Vietnamese as
it starts and ends, with what it counted and its time ("đọc tệp nộp: 220 tệp · 3,1 s").

On a terminal a live rich progress display (a spinner and a running clock per running step, a
line per finished one); otherwise (CI logs, a pipe) one plain line per step start and end.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from dti_cli.dagster_runs import StepEvent
from pipelines.text.labels import vn_count, vn_seconds

# The steps of the demo and yearly jobs (sensor and analysis steps keep their asset name)
STEP_NAMES = {
    "demo_submissions": "tạo tệp mô phỏng (demo)",
    "reference_data": "nạp danh mục đơn vị và bộ tiêu chí",
    "raw_submissions": "đọc tệp nộp",
    "validated_observations": "kiểm tra số liệu",
    "component_scores": "chấm điểm chỉ số thành phần",
    "pillar_scores": "tổng hợp điểm theo trụ cột",
    "unit_ranks": "xếp hạng đơn vị",
    "year_snapshot": "lưu kết quả (snapshot)",
    "update_periods": "ghi lần cập nhật",
    "year_report": "xuất báo cáo công khai",
    "year_annex": "xuất phụ lục Excel",
}
COUNT_NAMES = {"files_seen": "tệp", "files": "tệp", "rows": "dòng", "pages": "trang"}


def step_name(step: str) -> str:
    """A step in Vietnamese, with the asset's name for the engineer."""
    name = STEP_NAMES.get(step)
    return f"{name} ({step})" if name else step


def seconds_text(seconds: float) -> str:
    """``3,1 s``: seconds with a decimal comma."""
    return vn_seconds(seconds)


def finished_text(event: StepEvent) -> str:
    """``đọc tệp nộp (raw_submissions): 220 tệp · 3,1 s`` (✗ and "lỗi" for a failed step)."""
    counts = [f"{vn_count(value)} {COUNT_NAMES[key]}" for key, value in
              event.counts.items() if key in COUNT_NAMES]  # fmt: skip
    parts = [*counts[:1], seconds_text(event.seconds or 0.0)]
    if event.kind == "failure":
        return f"[red]✗[/] {step_name(event.step)}: lỗi · {' · '.join(parts)}"
    return f"[green]✓[/] {step_name(event.step)}: {' · '.join(parts)}"


class StepProgress:
    """Shows the step events of the runs of one ``dti run`` / ``dti demo``; use as a context
    manager around the runs and pass :meth:`step` as their ``on_step``."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = console.is_terminal
        self.progress = Progress(
            SpinnerColumn(finished_text=" "),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> StepProgress:
        if self.live:
            self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.live:
            self.progress.stop()

    def print(self, text: str) -> None:
        """A line among the steps (a run starting or ending)."""
        (self.progress.console if self.live else self.console).print(text)

    def step(self, event: StepEvent) -> None:
        """A step started (a live row with a spinner and clock, or a plain line) or ended (a
        line)."""
        if event.kind == "start":
            if self.live:
                self.tasks[event.step] = self.progress.add_task(
                    f"    {step_name(event.step)} …", total=1
                )
            else:
                self.console.print(f"    → {step_name(event.step)} …")
            return
        task = self.tasks.pop(event.step, None)
        if self.live and task is not None:  # the running row becomes a line above the display
            self.progress.remove_task(task)
        self.print(f"    {finished_text(event)}")
