// The chat-velocity chart: a uPlot area chart of messages per second over the last ten
// minutes (or a whole past session). Redraws at most once per animation frame and follows its
// container's size. Chat moments are markers over the plot (`#moment-markers`): one element per
// moment, placed from the x scale on every redraw so they scroll with the data; hovering one
// shows what triggered it. In the live view a dashed line shows where velocity fires.

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Moment, VelocityPoint } from "./bindings";
import { hoverText, kindsAttr, labelsOf, mainKind } from "./moments";
import { WINDOW_SECS } from "./state";

const LINE = "#22d3ee";
const AXIS_TEXT = "#8b93a7";
const GRID = "rgba(255, 255, 255, 0.06)";
const THRESHOLD = "rgba(245, 158, 11, 0.75)";
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

/** The x range of a past session (Unix seconds); null = the live ten-minute window. */
export type GraphRange = { min: number; max: number } | null;

/** One marker's element (keyed by moment id, so hover survives re-renders). */
interface Marker {
  el: HTMLElement;
  moment: Moment;
}

export class VelocityGraph {
  private readonly plot: uPlot;
  private points: readonly VelocityPoint[] = [];
  private pointsKey = "";
  /** Right edge of the x window (Unix seconds): the newest point, or "now" with no data. */
  private windowEnd = Math.floor(Date.now() / 1000) - 1;
  private range: GraphRange = null;
  /** Where velocity fires now (live view), msg/s; null hides the line. */
  private threshold: number | null = null;
  private moments: readonly Moment[] = [];
  private readonly markerLayer: HTMLElement;
  private readonly markers = new Map<number, Marker>();
  /** The moment under the mouse, if any. */
  private hovered: number | null = null;
  private frame = 0;
  private fallback = 0;
  private dataDirty = true;
  private sizeDirty = true;
  private markersDirty = true;

  constructor(
    private readonly container: HTMLElement,
    private readonly hover: HTMLElement | null,
    /** The marker layer's id (a second graph needs its own). */
    markersId = "moment-markers",
  ) {
    const host = document.createElement("div");
    host.className = "graph-host";
    container.appendChild(host);

    const opts: uPlot.Options = {
      width: Math.max(100, container.clientWidth),
      height: Math.max(60, container.clientHeight),
      pxAlign: false,
      legend: { show: false },
      padding: [12, 12, 0, 0],
      cursor: {
        drag: { x: false, y: false, setScale: false },
        points: { size: 8, fill: LINE, stroke: "#0b0d12", width: 2 },
        y: false,
      },
      scales: {
        x: {
          time: true,
          range: () => (this.range ? [this.range.min, this.range.max] : [this.windowEnd - WINDOW_SECS + 1, this.windowEnd]),
        },
        y: {
          range: (_u, _min, max) => {
            const line = this.threshold === null ? 0 : Math.ceil(this.threshold * 1.15);
            return [0, Math.max(MIN_Y_MAX, Math.ceil(max * 1.15), line)];
          },
        },
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
        draw: [
          (u) => {
            this.drawThreshold(u);
            this.placeMarkers(u);
          },
        ],
      },
    };
    this.plot = new uPlot(opts, [[], []], host);

    // The markers live in uPlot's overlay (the plotting area), so x positions map directly and the
    // cursor keeps working under them (their mouse events bubble to it).
    this.markerLayer = document.createElement("div");
    this.markerLayer.id = markersId;
    this.markerLayer.className = "moment-markers";
    this.markerLayer.setAttribute("aria-label", "Moments on the graph");
    this.plot.over.appendChild(this.markerLayer);
    this.markerLayer.addEventListener("mouseover", (e) => this.hoverMarker(e.target));
    this.markerLayer.addEventListener("mouseout", (e) => {
      const to = (e as MouseEvent).relatedTarget;
      if (!(to instanceof Node) || !this.markerLayer.contains(to)) this.hoverMarker(null);
    });

    new ResizeObserver(() => {
      this.sizeDirty = true;
      this.schedule();
    }).observe(container);
  }

  /** Replaces the plotted points (oldest first); drawn on the next animation frame. */
  setPoints(points: readonly VelocityPoint[]): void {
    // The cache appends to (and trims) the same array: compare its ends too.
    const first = points[0];
    const last = points[points.length - 1];
    const key = `${points.length}|${first?.second}|${last?.second}|${last?.count}`;
    if (points === this.points && key === this.pointsKey) return;
    this.pointsKey = key;
    this.points = points;
    this.dataDirty = true;
    this.schedule();
  }

  /** The x range: a past session's span, or null for the live ten-minute window. */
  setRange(range: GraphRange): void {
    if (range?.min === this.range?.min && range?.max === this.range?.max) return;
    this.range = range;
    this.dataDirty = true;
    this.schedule();
  }

  /** The dashed "fires above" line (live view), or null to hide it. */
  setThreshold(value: number | null): void {
    const v = value !== null && Number.isFinite(value) && value > 0 ? value : null;
    if (v === this.threshold) return;
    this.threshold = v;
    this.dataDirty = true; // the y range may change with it
    this.schedule();
  }

  /** The shown session's moments, as markers. */
  setMoments(moments: readonly Moment[]): void {
    this.moments = moments;
    this.markersDirty = true;
    this.schedule();
  }

  /** Highlights one moment's marker (e.g. while its row in the list is hovered). */
  highlight(id: number | null): void {
    for (const [mid, m] of this.markers) m.el.classList.toggle("is-hot", mid === id);
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
    if (this.markersDirty) {
      this.markersDirty = false;
      this.syncMarkers();
      if (!this.dataDirty) this.placeMarkers(this.plot);
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

  /** One element per moment, keyed by id; the newest last (on top). */
  private syncMarkers(): void {
    const seen = new Set<number>();
    const els: HTMLElement[] = [];
    for (const m of this.moments) {
      seen.add(m.id);
      let mk = this.markers.get(m.id);
      if (!mk) {
        const el = document.createElement("div");
        el.className = "moment-marker";
        el.dataset.id = String(m.id);
        const flag = document.createElement("span");
        flag.className = "moment-flag";
        flag.setAttribute("aria-hidden", "true");
        el.appendChild(flag);
        mk = { el, moment: m };
        this.markers.set(m.id, mk);
      }
      mk.moment = m;
      const { el } = mk;
      const kinds = kindsAttr(m);
      if (el.dataset.kinds !== kinds) el.dataset.kinds = kinds;
      const main = mainKind(m) ?? "";
      if (el.dataset.kind !== main) el.dataset.kind = main;
      const live = String(m.endedAtMs === null);
      if (el.dataset.live !== live) el.dataset.live = live;
      const title = labelsOf(m);
      if (el.title !== title) el.title = title;
      const aria = hoverText(m);
      if (el.getAttribute("aria-label") !== aria) el.setAttribute("aria-label", aria);
      els.push(el);
    }
    for (const [id, mk] of this.markers) {
      if (!seen.has(id)) {
        mk.el.remove();
        this.markers.delete(id);
        if (this.hovered === id) this.hovered = null;
      }
    }
    els.forEach((el, i) => {
      const at = this.markerLayer.children[i] ?? null;
      if (at !== el) this.markerLayer.insertBefore(el, at);
    });
    this.markerLayer.dataset.count = String(els.length);
  }

  /** Puts every marker where its moment is on the x scale (hidden when outside the range). */
  private placeMarkers(u: uPlot): void {
    const width = u.bbox.width / uPlot.pxRatio;
    if (!(width > 0)) return;
    const last = this.points[this.points.length - 1];
    // An ongoing moment reaches the newest second (plus that second itself).
    const liveEnd = (last ? last.second : this.windowEnd) + 1;
    for (const { el, moment: m } of this.markers.values()) {
      const start = m.startedAtMs / 1000;
      const end = m.endedAtMs === null ? Math.max(liveEnd, start) : m.endedAtMs / 1000;
      const x0 = u.valToPos(start, "x");
      const x1 = u.valToPos(end, "x");
      const visible = Number.isFinite(x0) && Number.isFinite(x1) && x1 >= 0 && x0 <= width;
      if (el.hidden === visible) el.hidden = !visible;
      if (!visible) continue;
      const left = Math.max(0, x0);
      const right = Math.min(width, Math.max(x1, x0));
      el.style.left = `${left.toFixed(1)}px`;
      el.style.width = `${Math.max(2, right - left).toFixed(1)}px`;
      el.classList.toggle("is-cut", x0 < 0);
    }
  }

  private drawThreshold(u: uPlot): void {
    if (this.threshold === null || this.range !== null) return;
    const y = Math.round(u.valToPos(this.threshold, "y", true)) + 0.5;
    const { left, top, width, height } = u.bbox;
    if (!(y >= top && y <= top + height)) return;
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = THRESHOLD;
    ctx.lineWidth = uPlot.pxRatio;
    ctx.setLineDash([6 * uPlot.pxRatio, 4 * uPlot.pxRatio]);
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(left + width, y);
    ctx.stroke();
    ctx.restore();
  }

  private hoverMarker(target: EventTarget | null): void {
    const el = target instanceof Element ? target.closest<HTMLElement>(".moment-marker") : null;
    const id = el ? Number(el.dataset.id) : null;
    if (id === this.hovered) return;
    this.hovered = id;
    this.showHover(this.plot);
  }

  private showHover(u: uPlot): void {
    if (!this.hover) return;
    const mk = this.hovered === null ? undefined : this.markers.get(this.hovered);
    if (mk) {
      this.hover.textContent = `Moment ${hoverText(mk.moment)}`;
      this.hover.dataset.moment = String(mk.moment.id);
      this.hover.title = this.hover.textContent;
      return;
    }
    delete this.hover.dataset.moment;
    const idx = u.cursor.idx;
    const x = idx == null ? undefined : u.data[0][idx];
    const y = idx == null ? undefined : u.data[1][idx];
    this.hover.textContent = x == null || y == null ? "" : `${clock(x, true)} · ${y} msg/s`;
    this.hover.title = "";
  }
}
