// A chat's velocity graph: the uPlot chart (graph.ts) plus its moment markers, a hover readout
// and an empty-state text. The chart redraws itself at most once a second when the data
// changed and never while the window is hidden; the markers are elements over its plotting
// area, placed in percent of the same x range (they scroll with the data and keep their hover).

import { createPortal, memo } from "preact/compat";
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { Moment, VelocityPoint } from "../bindings";
import { clock } from "../format";
import { type ChartData, readGraphColors, VelocityChart, type XRange, xPercent, xRangeOf } from "../graph";
import { hoverText, kindsAttr, mainKind } from "../moments";
import { theme } from "../theme";
import { pageVisible } from "../ticker";
import { hoveredMoment } from "../ui";
import "./VelocityGraph.css";

export interface GraphEmpty {
  title: string;
  text?: string;
}

export interface VelocityGraphProps {
  /** The container's id (`velocity-graph` for the main chat). */
  id?: string;
  /** What the graph shows, for assistive technology. */
  label: string;
  /** Oldest first; may be an array the cache appends to in place. */
  points: readonly VelocityPoint[];
  /** Changes whenever the data may have changed: the arrays are appended to in place, and a
   *  component with unchanged props is not re-rendered (@preact/signals skips it). */
  revision: number;
  /** A past session's span; null for the live ten minutes. */
  range: XRange | null;
  /** The dashed "velocity fires above" line; null hides it. */
  threshold: number | null;
  moments: readonly Moment[];
  /** The small Kick graph: no time axis, no cursor, no hover readout. */
  compact: boolean;
  /** Shown over the graph when there is nothing to plot yet. */
  empty: GraphEmpty | null;
}

/** Where a marker goes, in percent of the plotting area. */
interface Placement {
  left: number;
  width: number;
  /** It began before the shown range. */
  cut: boolean;
}

function place(m: Moment, xr: XRange, newestSecond: number): Placement | null {
  const start = m.startedAtMs / 1000;
  // An ongoing moment reaches the newest second (plus that second itself).
  const end = m.endedAtMs === null ? Math.max(newestSecond + 1, start) : m.endedAtMs / 1000;
  const x0 = xPercent(start, xr);
  const x1 = xPercent(end, xr);
  if (!Number.isFinite(x0) || !Number.isFinite(x1) || x1 < 0 || x0 > 100) return null;
  const left = Math.max(0, x0);
  const right = Math.min(100, Math.max(x1, x0));
  return { left, width: right - left, cut: x0 < 0 };
}

interface MarkerProps {
  moment: Moment;
  left: number;
  width: number;
  cut: boolean;
  onHover: (m: Moment | null) => void;
}

/** One moment on the graph: a band from its start to its end, with a pennant. */
const MomentMarker = memo(function MomentMarker({ moment, left, width, cut, onHover }: MarkerProps) {
  const text = hoverText(moment);
  const hot = hoveredMoment.value === moment.id;
  return (
    <div
      class={`moment-marker${cut ? " is-cut" : ""}${hot ? " is-hot" : ""}`}
      data-id={moment.id}
      data-kinds={kindsAttr(moment)}
      data-kind={mainKind(moment) ?? ""}
      data-live={String(moment.endedAtMs === null)}
      title={text}
      aria-label={text}
      style={{ left: `${left.toFixed(3)}%`, width: `${width.toFixed(3)}%` }}
      onMouseEnter={() => onHover(moment)}
      onMouseLeave={() => onHover(null)}
    >
      <span class="moment-flag" aria-hidden="true" />
    </div>
  );
});

export function VelocityGraph({ id, label, points, range, threshold, moments, compact, empty }: VelocityGraphProps) {
  // (`revision` only makes this re-render; the chart compares the data itself.)
  const hostRef = useRef<HTMLDivElement>(null);
  const hoverRef = useRef<HTMLDivElement>(null);
  const chartRef = useRef<VelocityChart | null>(null);
  /** The moment under the mouse: the readout names it instead of the point. */
  const hovered = useRef<Moment | null>(null);
  const [over, setOver] = useState<HTMLElement | null>(null);
  const visible = pageVisible.value;
  const currentTheme = theme.value;

  // The readout is written directly (the mouse moves far more often than anything re-renders).
  const showPoint = useCallback((p: VelocityPoint | null) => {
    const el = hoverRef.current;
    if (!el || hovered.current) return;
    el.textContent = p ? `${clock(p.second * 1000)} · ${p.count} msg/s` : "";
    delete el.dataset.moment;
  }, []);
  const showMoment = useCallback((m: Moment | null) => {
    hovered.current = m;
    const el = hoverRef.current;
    if (!el) return;
    if (m) {
      el.textContent = `Moment ${hoverText(m)}`;
      el.dataset.moment = String(m.id);
    } else {
      el.textContent = "";
      delete el.dataset.moment;
    }
  }, []);

  useLayoutEffect(() => {
    const chart = new VelocityChart(hostRef.current!, { compact, onCursor: compact ? undefined : showPoint });
    chartRef.current = chart;
    setOver(chart.over);
    return () => {
      chartRef.current = null;
      chart.destroy();
    };
  }, [compact, showPoint]);

  // Every render: the chart compares and redraws only if the data actually changed.
  useEffect(() => {
    const data: ChartData = { points, range, threshold };
    chartRef.current?.update(data);
  });

  useEffect(() => {
    chartRef.current?.setVisible(visible);
  }, [visible]);

  // Colours follow the theme (the first render already read them).
  const firstTheme = useRef(currentTheme);
  useEffect(() => {
    if (currentTheme !== firstTheme.current) chartRef.current?.setColors(readGraphColors());
  }, [currentTheme]);

  // A hovered marker that went away gets no mouseleave: forget it.
  useEffect(() => {
    const h = hovered.current;
    if (h && !moments.some((m) => m.id === h.id)) showMoment(null);
  }, [moments, showMoment]);

  const xr = xRangeOf(points, range, Date.now());
  const newest = points[points.length - 1]?.second ?? xr.max;
  const last = points[points.length - 1];
  const markers = moments.map((m) => {
    const at = place(m, xr, newest);
    return at ? <MomentMarker key={m.id} moment={m} left={at.left} width={at.width} cut={at.cut} onHover={showMoment} /> : null;
  });

  return (
    <div
      id={id}
      class="vgraph"
      data-compact={compact ? "true" : undefined}
      data-points={points.length}
      data-last-count={last ? String(last.count) : ""}
      role="group"
      aria-label={label}
    >
      <div class="vgraph-host" ref={hostRef} />
      {over &&
        createPortal(
          <div class="vgraph-markers" data-count={moments.length} aria-label="Moments on the graph">
            {markers}
          </div>,
          over,
        )}
      {!compact && <div class="vgraph-hover" ref={hoverRef} aria-hidden="true" />}
      {empty && (
        <div class="vgraph-empty" role="status">
          <div class="vgraph-empty-title">{empty.title}</div>
          {empty.text && <div class="vgraph-empty-text">{empty.text}</div>}
        </div>
      )}
    </div>
  );
}
