// The chat-velocity chart: a uPlot area chart of messages per second over the last ten
// minutes. Redraws at most once per animation frame and follows its container's size.

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { VelocityPoint } from "./bindings";
import { WINDOW_SECS } from "./state";

const LINE = "#22d3ee";
const AXIS_TEXT = "#8b93a7";
const GRID = "rgba(255, 255, 255, 0.06)";
const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, Ubuntu, Cantarell, "Noto Sans", sans-serif';
/** Longest wait for an animation frame before drawing anyway. */
const FALLBACK_MS = 250;
/** Y axis never shows less than this, so a quiet chat does not look like a storm. */
const MIN_Y_MAX = 5;

const pad2 = (n: number): string => String(n).padStart(2, "0");

/** "HH:MM" on whole minutes, "HH:MM:SS" otherwise (local time). */
function clock(second: number, withSeconds: boolean): string {
  const d = new Date(second * 1000);
  const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  return withSeconds ? `${hm}:${pad2(d.getSeconds())}` : hm;
}

export class VelocityGraph {
  private readonly plot: uPlot;
  private points: readonly VelocityPoint[] = [];
  /** Right edge of the x window (Unix seconds): the newest point, or "now" with no data. */
  private windowEnd = Math.floor(Date.now() / 1000) - 1;
  private frame = 0;
  private fallback = 0;
  private dataDirty = true;
  private sizeDirty = true;

  constructor(
    private readonly container: HTMLElement,
    private readonly hover: HTMLElement | null,
  ) {
    const host = document.createElement("div");
    host.className = "graph-host";
    container.appendChild(host);

    const opts: uPlot.Options = {
      width: Math.max(100, container.clientWidth),
      height: Math.max(100, container.clientHeight),
      pxAlign: false,
      legend: { show: false },
      padding: [12, 12, 0, 0],
      cursor: {
        drag: { x: false, y: false, setScale: false },
        points: { size: 8, fill: LINE, stroke: "#0b0d12", width: 2 },
        y: false,
      },
      scales: {
        x: { time: true, range: () => [this.windowEnd - WINDOW_SECS + 1, this.windowEnd] },
        y: { range: (_u, _min, max) => [0, Math.max(MIN_Y_MAX, Math.ceil(max * 1.15))] },
      },
      axes: [
        {
          stroke: AXIS_TEXT,
          font: FONT,
          grid: { stroke: GRID, width: 1 },
          ticks: { show: false },
          space: 64,
          size: 36,
          values: (_u, splits) => splits.map((s) => clock(s, s % 60 !== 0)),
        },
        {
          stroke: AXIS_TEXT,
          font: FONT,
          grid: { stroke: GRID, width: 1 },
          ticks: { show: false },
          size: 44,
          space: 32,
          incrs: [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000],
          values: (_u, splits) => splits.map((s) => String(s)),
        },
      ],
      series: [
        {},
        {
          label: "msg/s",
          stroke: LINE,
          width: 2,
          fill: (u) => {
            const g = u.ctx.createLinearGradient(0, u.bbox.top, 0, u.bbox.top + u.bbox.height);
            g.addColorStop(0, "rgba(34, 211, 238, 0.55)");
            g.addColorStop(0.6, "rgba(34, 211, 238, 0.22)");
            g.addColorStop(1, "rgba(34, 211, 238, 0.10)");
            return g;
          },
          points: { show: false },
        },
      ],
      hooks: {
        setCursor: [(u) => this.showHover(u)],
      },
    };
    this.plot = new uPlot(opts, [[], []], host);

    new ResizeObserver(() => {
      this.sizeDirty = true;
      this.schedule();
    }).observe(container);
  }

  /** Replaces the plotted points (oldest first); drawn on the next animation frame. */
  setPoints(points: readonly VelocityPoint[]): void {
    this.points = points;
    this.dataDirty = true;
    this.schedule();
  }

  /** Draws on the next animation frame; a timer covers windows that get no frames (hidden). */
  private schedule(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => this.draw());
    this.fallback = window.setTimeout(() => this.draw(), FALLBACK_MS);
  }

  private draw(): void {
    cancelAnimationFrame(this.frame);
    window.clearTimeout(this.fallback);
    this.frame = 0;
    if (this.sizeDirty) {
      this.sizeDirty = false;
      const w = Math.floor(this.container.clientWidth);
      const h = Math.floor(this.container.clientHeight);
      if (w > 0 && h > 0 && (w !== this.plot.width || h !== this.plot.height)) {
        this.plot.setSize({ width: w, height: h });
      }
    }
    if (this.dataDirty) {
      this.dataDirty = false;
      const pts = this.points;
      const last = pts[pts.length - 1];
      this.windowEnd = last ? last.second : Math.floor(Date.now() / 1000) - 1;
      this.plot.setData([pts.map((p) => p.second), pts.map((p) => p.count)]);
      this.container.dataset.points = String(pts.length);
      this.container.dataset.lastCount = last ? String(last.count) : "";
    }
  }

  private showHover(u: uPlot): void {
    if (!this.hover) return;
    const idx = u.cursor.idx;
    const x = idx == null ? undefined : u.data[0][idx];
    const y = idx == null ? undefined : u.data[1][idx];
    this.hover.textContent = x == null || y == null ? "" : `${clock(x, true)} · ${y} msg/s`;
  }
}
