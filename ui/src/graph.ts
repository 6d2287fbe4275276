// The chat-velocity chart: a uPlot area chart of messages per second over the last ten minutes
// (or a whole past session), with a dashed line where velocity fires (live view).
//
// Idle means idle: the chart redraws only when what it shows changed (points, x range,
// threshold, theme colours), at most once a second, and never while the window is hidden (it
// catches up when shown again). A resize is applied on the next animation frame. With nothing
// changing, no timer runs. Moment markers are not drawn here: the component renders them over
// `over` (uPlot's plotting area), placed with `xPercent` from the same x range.

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { SessionHistory, VelocityPoint } from "./bindings";
import { clock, clockShort } from "./format";
import { WINDOW_SECS } from "./state";
import { cssVar } from "./theme";

/** Shortest time between two redraws for new data. */
export const MIN_REDRAW_MS = 1000;
/** Longest wait for an animation frame before a resize is applied anyway. */
const RESIZE_FALLBACK_MS = 250;
/** The y axis never shows less than this, so a quiet chat does not look like a storm. */
const MIN_Y_MAX = 5;
/** Past sessions: gaps longer than this are not filled (the history holds at most 6 hours). */
const MAX_GAP_SECS = 6 * 3600;

/** An x range in Unix seconds. */
export interface XRange {
  min: number;
  max: number;
}

// ---- Pure helpers --------------------------------------------------------------------------------

/** Fills missing seconds with zeros (the database keeps whole minutes; gaps had no chat). */
export function fillGaps(points: readonly VelocityPoint[]): VelocityPoint[] {
  const out: VelocityPoint[] = [];
  for (const p of points) {
    const prev = out[out.length - 1];
    if (prev && p.second <= prev.second) continue;
    if (prev && p.second - prev.second > 1 && p.second - prev.second < MAX_GAP_SECS) {
      for (let s = prev.second + 1; s < p.second; s++) out.push({ second: s, count: 0 });
    }
    out.push(p);
  }
  return out;
}

/** A past session's x range: its span (at least a minute), clipped to the points kept. */
export function historyRange(h: SessionHistory, points: readonly VelocityPoint[]): XRange {
  const first = points[0]?.second;
  const last = points[points.length - 1]?.second;
  const start = Math.floor(h.session.startedAtMs / 1000);
  const end = h.session.endedAtMs !== null ? Math.ceil(h.session.endedAtMs / 1000) : (last ?? start + 60);
  const min = first !== undefined ? Math.max(start, Math.min(first, end - 1)) : start;
  const max = Math.max(end, last ?? end, min + 60);
  return { min, max };
}

/** Whether a past session was longer than the 6 hours its history keeps. */
export function historyCut(h: SessionHistory): boolean {
  const end = h.session.endedAtMs ?? h.session.startedAtMs;
  return end - h.session.startedAtMs > (MAX_GAP_SECS + 60) * 1000;
}

/** The x range shown: a past session's `range`, or the live ten minutes ending at the newest
 *  point (at "now" when there is none). */
export function xRangeOf(points: readonly VelocityPoint[], range: XRange | null, nowMs: number): XRange {
  if (range) return range;
  const last = points[points.length - 1];
  const end = last ? last.second : Math.floor(nowMs / 1000) - 1;
  return { min: end - WINDOW_SECS + 1, max: end };
}

/** Where a time (Unix seconds) is across the plotting area, in percent (may be outside 0–100). */
export function xPercent(second: number, xr: XRange): number {
  const span = xr.max - xr.min;
  return span > 0 ? ((second - xr.min) / span) * 100 : 0;
}

/** Theme colours the canvas needs (it cannot use CSS variables itself). */
export interface GraphColors {
  line: string;
  fillTop: string;
  fillMid: string;
  fillBottom: string;
  axis: string;
  grid: string;
  threshold: string;
}

/** "#22d3ee" with an alpha, as rgba(); other colour syntaxes are returned as they are. */
export function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim());
  if (!m) return color;
  let hex = m[1]!;
  if (hex.length === 3) hex = [...hex].map((c) => c + c).join("");
  const n = parseInt(hex, 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/** The current theme's colours (read again when the theme changes). */
export function readGraphColors(): GraphColors {
  const data = cssVar("--data") || "#22d3ee";
  return {
    line: data,
    fillTop: withAlpha(data, 0.5),
    fillMid: withAlpha(data, 0.2),
    fillBottom: withAlpha(data, 0.06),
    axis: cssVar("--faint") || "#646d82",
    grid: cssVar("--grid") || "rgba(128, 128, 128, 0.1)",
    threshold: cssVar("--warn") || "#f59e0b",
  };
}

// ---- The chart -------------------------------------------------------------------------------------

/** What the chart plots. `points` may be an array the cache appends to in place. */
export interface ChartData {
  points: readonly VelocityPoint[];
  /** A past session's span; null for the live ten-minute window. */
  range: XRange | null;
  /** Where velocity fires now (msg/s), drawn as a dashed line; null hides it. */
  threshold: number | null;
}

export interface ChartOptions {
  /** A small chart (the Kick strip): no time axis, no cursor. */
  compact: boolean;
  /** The point under the mouse (null when none), for a hover readout. */
  onCursor?: (point: VelocityPoint | null) => void;
}

/** Identifies what is plotted, so an unchanged update costs nothing. The cache appends to (and
 *  trims) the same array, so its ends are compared too. */
function dataKey(d: ChartData): string {
  const p = d.points;
  const first = p[0];
  const last = p[p.length - 1];
  return `${p.length}|${first?.second}|${last?.second}|${last?.count}|${d.range?.min}|${d.range?.max}|${d.threshold}`;
}

export class VelocityChart {
  private readonly plot: uPlot;
  private readonly observer: ResizeObserver;
  private data: ChartData = { points: [], range: null, threshold: null };
  private key = "";
  private colors: GraphColors;
  /** The x range of the last draw. */
  private xr: XRange = xRangeOf([], null, Date.now());
  private threshold: number | null = null;
  private visible = true;
  /** Something changed that the canvas does not show yet. */
  private dirty = false;
  private sizeDirty = false;
  private lastDrawAt = 0;
  private drawTimer: ReturnType<typeof setTimeout> | undefined;
  private sizeFrame = 0;
  private sizeFallback: ReturnType<typeof setTimeout> | undefined;
  private destroyed = false;

  constructor(
    private readonly host: HTMLElement,
    private readonly options: ChartOptions,
  ) {
    this.colors = readGraphColors();
    const compact = options.compact;
    const font = `${compact ? 10 : 11}px ${cssVar("--font") || "system-ui, sans-serif"}`;
    const opts: uPlot.Options = {
      width: Math.max(100, Math.floor(host.clientWidth)),
      height: Math.max(40, Math.floor(host.clientHeight)),
      pxAlign: false,
      legend: { show: false },
      padding: compact ? [4, 6, 4, 0] : [10, 10, 0, 0],
      cursor: {
        show: !compact,
        drag: { x: false, y: false, setScale: false },
        points: { size: 8, width: 2 },
        y: false,
      },
      scales: {
        x: { time: true, range: () => [this.xr.min, this.xr.max] },
        y: {
          range: (_u, _min, max) => {
            const line = this.threshold === null ? 0 : Math.ceil(this.threshold * 1.15);
            return [0, Math.max(MIN_Y_MAX, Math.ceil((max ?? 0) * 1.15), line)];
          },
        },
      },
      axes: [
        {
          show: !compact,
          stroke: () => this.colors.axis,
          font,
          grid: { stroke: () => this.colors.grid, width: 1 },
          ticks: { show: false },
          space: 72,
          size: 30,
          // Whole minutes without seconds; the streamer's locale decides 12 or 24 h.
          values: (_u, splits) => splits.map((s) => (s % 60 === 0 ? clockShort(s * 1000) : clock(s * 1000))),
        },
        {
          stroke: () => this.colors.axis,
          font,
          grid: { stroke: () => this.colors.grid, width: 1 },
          ticks: { show: false },
          size: compact ? 30 : 40,
          space: compact ? 18 : 30,
          incrs: [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000],
          values: (_u, splits) => splits.map((s) => String(s)),
        },
      ],
      series: [
        {},
        {
          label: "msg/s",
          stroke: () => this.colors.line,
          width: compact ? 1.5 : 2,
          fill: (u) => {
            const g = u.ctx.createLinearGradient(0, u.bbox.top, 0, u.bbox.top + u.bbox.height);
            g.addColorStop(0, this.colors.fillTop);
            g.addColorStop(0.6, this.colors.fillMid);
            g.addColorStop(1, this.colors.fillBottom);
            return g;
          },
          points: { show: false },
        },
      ],
      hooks: {
        draw: [(u) => this.drawThreshold(u)],
        setCursor: [(u) => this.reportCursor(u)],
      },
    };
    this.plot = new uPlot(opts, [[], []], host);
    this.observer = new ResizeObserver(() => this.resizeSoon());
    this.observer.observe(host);
  }

  /** uPlot's plotting area: the moment markers go in here. */
  get over(): HTMLElement {
    return this.plot.over;
  }

  /** New data to plot; drawn within a second if it differs from what is shown. */
  update(d: ChartData): void {
    const key = dataKey(d);
    if (d.points === this.data.points && key === this.key) return;
    this.data = d;
    this.key = key;
    this.markDirty();
  }

  /** The theme changed: redraw with its colours. */
  setColors(colors: GraphColors): void {
    this.colors = colors;
    this.markDirty();
  }

  /** The window was hidden or shown again; a hidden chart does not draw. */
  setVisible(visible: boolean): void {
    if (visible === this.visible) return;
    this.visible = visible;
    if (!visible) return;
    if (this.sizeDirty) this.resizeSoon();
    this.schedule();
  }

  destroy(): void {
    this.destroyed = true;
    clearTimeout(this.drawTimer);
    clearTimeout(this.sizeFallback);
    cancelAnimationFrame(this.sizeFrame);
    this.observer.disconnect();
    this.plot.destroy();
  }

  private markDirty(): void {
    this.dirty = true;
    this.schedule();
  }

  /** Draws once the last draw is a second old (now, if it already is). */
  private schedule(): void {
    if (!this.dirty || !this.visible || this.destroyed || this.drawTimer !== undefined) return;
    const wait = Math.max(0, this.lastDrawAt + MIN_REDRAW_MS - Date.now());
    this.drawTimer = setTimeout(() => {
      this.drawTimer = undefined;
      this.draw();
    }, wait);
  }

  private draw(): void {
    if (!this.visible || this.destroyed) return; // stays dirty: drawn when shown again
    this.dirty = false;
    this.lastDrawAt = Date.now();
    const { points, range, threshold } = this.data;
    this.xr = xRangeOf(points, range, this.lastDrawAt);
    this.threshold = threshold !== null && Number.isFinite(threshold) && threshold > 0 ? threshold : null;
    this.plot.setData([points.map((p) => p.second), points.map((p) => p.count)]);
  }

  /** Follows the container's size on the next animation frame (a timer covers a window that
   *  gets no frames). */
  private resizeSoon(): void {
    if (this.destroyed) return;
    if (!this.visible) {
      this.sizeDirty = true;
      return;
    }
    if (this.sizeFallback !== undefined) return;
    const apply = () => {
      cancelAnimationFrame(this.sizeFrame);
      clearTimeout(this.sizeFallback);
      this.sizeFallback = undefined;
      this.applySize();
    };
    this.sizeFrame = requestAnimationFrame(apply);
    this.sizeFallback = setTimeout(apply, RESIZE_FALLBACK_MS);
  }

  private applySize(): void {
    if (this.destroyed) return;
    this.sizeDirty = false;
    const width = Math.floor(this.host.clientWidth);
    const height = Math.floor(this.host.clientHeight);
    if (width > 0 && height > 0 && (width !== this.plot.width || height !== this.plot.height)) {
      this.plot.setSize({ width, height });
    }
  }

  private drawThreshold(u: uPlot): void {
    if (this.threshold === null) return;
    const y = Math.round(u.valToPos(this.threshold, "y", true)) + 0.5;
    const { left, top, width, height } = u.bbox;
    if (!(y >= top && y <= top + height)) return;
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = this.colors.threshold;
    ctx.globalAlpha = 0.8;
    ctx.lineWidth = uPlot.pxRatio;
    ctx.setLineDash([6 * uPlot.pxRatio, 4 * uPlot.pxRatio]);
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(left + width, y);
    ctx.stroke();
    ctx.restore();
  }

  private reportCursor(u: uPlot): void {
    if (!this.options.onCursor) return;
    const idx = u.cursor.idx;
    const second = idx == null ? undefined : u.data[0][idx];
    const count = idx == null ? undefined : u.data[1]?.[idx];
    this.options.onCursor(second == null || count == null ? null : { second, count });
  }
}
