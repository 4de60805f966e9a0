"""``ProgbarLogger``: the progress bar (verbose=1) or one line per epoch (verbose=2)."""

from __future__ import annotations

import sys
import time
from typing import Any

from .base import Callback, Logs, _format_logs


def _bar(total: int | None, desc: str | None = None, unit: str = "step",
         interval: float = 0.1) -> Any:
    """A tqdm progress bar on stdout (tqdm imported here, so `import shenjing` does not)."""
    from tqdm import tqdm  # type: ignore[import-untyped]

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stdout, mininterval=interval,
                leave=True, dynamic_ncols=True)


def _line(head: str, seconds: str, text: str) -> None:
    """verbose=2's one line: what ran, how long, the logs."""
    print(" - ".join(filter(None, [head, seconds, text])), file=sys.stdout)


class ProgbarLogger(Callback):
    """Progress on stdout: a tqdm bar per epoch (verbose=1) or one line per epoch (verbose=2).

    The bar's postfix shows the running metrics, then the epoch's final logs with the ``val_``
    ones. Outside ``fit`` it shows ``evaluate``'s and ``predict``'s batches the same way.
    """

    def __init__(self) -> None:
        super().__init__()
        self._bar: Any = None
        self._in_fit = False
        self._title = ""
        self._start_time = 0.0

    @property
    def verbose(self) -> int:
        return int(self.params.get("verbose", 1))

    def _begin(self, title: str) -> None:
        self._title, self._start_time = title, time.perf_counter()
        if self.verbose == 1:
            self._bar = _bar(self.params.get("steps"), title)

    def _update(self, batch: int, logs: Logs | None) -> None:
        if self._bar is not None:
            if logs:
                self._bar.set_postfix_str(_format_logs(logs), refresh=False)
            self._bar.update(batch + 1 - self._bar.n)

    def _end(self, logs: Logs | None) -> None:
        text = _format_logs(logs or {})
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
            self._bar.close()
            self._bar = None
        elif self.verbose == 2:
            _line(self._title, f"{time.perf_counter() - self._start_time:.1f}s", text)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._in_fit = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._in_fit = False
        if self._bar is not None:  # training stopped inside an epoch
            self._bar.close()
            self._bar = None

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._begin(f"Epoch {epoch + 1}/{self.params.get('epochs', '?')}")

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._update(batch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self._end(logs)

    def on_test_begin(self, logs: Logs | None = None) -> None:
        if not self._in_fit:
            self._begin("Evaluate")

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if not self._in_fit:
            self._update(batch, logs)

    def on_test_end(self, logs: Logs | None = None) -> None:
        if not self._in_fit:
            self._end(logs)

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        self._begin("Predict")

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._update(batch, None)  # predict's logs hold outputs, not metrics

    def on_predict_end(self, logs: Logs | None = None) -> None:
        self._end(None)


class Progbar:
    """Keras's ``keras.utils.Progbar`` for loops of one's own: ``update(current, values)``
    moves it to step ``current`` of ``target`` (None: unknown) and shows each named value,
    averaged over the steps so far (weighted by the steps each update covers) unless it is in
    ``stateful_metrics``, whose latest value is shown. ``verbose=1``: a tqdm bar; 2: one line
    when it ends; 0: silent. ``add(n, values)`` advances by ``n``.

    >>> bar = Progbar(100)
    >>> for step in range(100):
    ...     bar.update(step + 1, [("loss", loss)])
    """

    def __init__(self, target: int | None, width: int = 20, verbose: int = 1,
                 interval: float = 0.05, stateful_metrics: Any = None,
                 unit_name: str = "step") -> None:
        self.target, self.width, self.verbose = target, width, int(verbose)
        self.interval, self.unit_name = interval, unit_name
        self.stateful_metrics = set(stateful_metrics or ())
        self._values: dict[str, list[float]] = {}  # name -> [weighted sum, steps] or [last]
        self._seen = 0
        self._bar: Any = None
        self._start = time.perf_counter()

    def _logs(self) -> dict[str, float]:
        return {k: v[0] if len(v) == 1 else v[0] / max(v[1], 1) for k, v in self._values.items()}

    def update(self, current: int, values: Any = None, finalize: bool | None = None) -> None:
        steps = max(current - self._seen, 1)
        for name, value in values or ():
            if name in self.stateful_metrics:
                self._values[name] = [float(value)]
            else:
                total = self._values.setdefault(name, [0.0, 0])
                total[0] += float(value) * steps
                total[1] += steps
        self._seen = current
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        text = _format_logs(self._logs())
        if self.verbose == 1:
            if self._bar is None:
                self._bar = _bar(self.target, unit=self.unit_name, interval=self.interval)
            self._bar.set_postfix_str(text, refresh=False)
            self._bar.update(current - self._bar.n)
            if finalize:
                self._bar.close()
                self._bar = None
        elif self.verbose == 2 and finalize:
            head = f"{current}/{self.target}" if self.target is not None else str(current)
            _line(head, f"{time.perf_counter() - self._start:.0f}s", text)

    def add(self, n: int, values: Any = None) -> None:
        """Advance by ``n`` steps (with ``values`` as in :meth:`update`)."""
        self.update(self._seen + n, values)
