// Tiny SVG charts: a multi-series line chart over time and a horizontal bar list. Each chart
// has a text alternative (a visually hidden table) so screen readers get the numbers.
import { useId } from 'react';

export interface Series {
  name: string;
  color: string;
  points: Array<[number, number | null]>; // [unix seconds, value]; null: no value (a gap)
}

/** The runs of consecutive non-null points (a line is not drawn across a gap). */
export function segments(points: Array<[number, number | null]>): Array<Array<[number, number]>> {
  const out: Array<Array<[number, number]>> = [];
  let cur: Array<[number, number]> = [];
  for (const [t, v] of points) {
    if (v === null || v === undefined) {
      if (cur.length) out.push(cur);
      cur = [];
    } else {
      cur.push([t, v]);
    }
  }
  if (cur.length) out.push(cur);
  return out;
}

export function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const hhmm = (t: number) => new Date(t * 1000).toISOString().slice(11, 16);

export function LineChart({ series, height = 180, unit = '', label }: { series: Series[]; height?: number; unit?: string; label: string }) {
  const id = useId();
  const W = 600, H = height, L = 44, R = 10, T = 10, B = 24;
  const all = series.flatMap((s) => s.points);
  const values = all.map((p) => p[1]).filter((v): v is number => v !== null && v !== undefined);
  if (!all.length) return <div className="chart-empty">No data in this window yet.</div>;
  const t0 = Math.min(...all.map((p) => p[0]));
  const t1 = Math.max(...all.map((p) => p[0]));
  const vmax = niceMax(Math.max(0, ...values));
  const x = (t: number) => L + ((t - t0) / Math.max(1, t1 - t0)) * (W - L - R);
  const y = (v: number) => T + (1 - v / vmax) * (H - T - B);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * vmax);
  const xt = [0, 0.5, 1].map((f) => t0 + f * (t1 - t0));
  return (
    <figure className="chart" aria-labelledby={id}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={id} preserveAspectRatio="none">
        {ticks.map((v) => (
          <g key={v}>
            <line x1={L} x2={W - R} y1={y(v)} y2={y(v)} className="grid" />
            {/* a gridline whose value needs two decimals (1.25 of 5) has no label: it would not fit */}
            {Number.isInteger(Math.round(v * 1000) / 100) && <text x={L - 6} y={y(v) + 4} textAnchor="end" className="axis">{Math.round(v * 10) / 10}{unit}</text>}
          </g>
        ))}
        {xt.map((t, i) => (
          <text key={t} x={x(t)} y={H - 6} textAnchor={i === 0 ? 'start' : i === 2 ? 'end' : 'middle'} className="axis">{hhmm(t)}</text>
        ))}
        {series.map((s) => segments(s.points).map((seg) => seg.length === 1 ? (
          <circle key={`${s.name}-${seg[0][0]}`} cx={x(seg[0][0])} cy={y(seg[0][1])} r={2.5} fill={s.color} />
        ) : (
          <polyline key={`${s.name}-${seg[0][0]}`} fill="none" stroke={s.color} strokeWidth={2} vectorEffect="non-scaling-stroke"
            points={seg.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ')} />
        )))}
      </svg>
      <figcaption id={id} className="legend">
        <span className="sr-only">{label}: </span>
        {series.map((s) => (
          <span key={s.name} className="legend-item"><span className="swatch" style={{ background: s.color }} aria-hidden="true" />{s.name}</span>
        ))}
      </figcaption>
      {/* the wrapper hides it: a table's height grows to its rows whatever CSS says, so a bare
          table.sr-only made the page a screen taller */}
      <div className="sr-only"><table>
        <caption>{label}</caption>
        <thead><tr><th scope="col">Time</th>{series.map((s) => <th key={s.name} scope="col">{s.name}</th>)}</tr></thead>
        <tbody>
          {(series[0]?.points || []).map((p, i) => (
            <tr key={p[0]}><td>{hhmm(p[0])}</td>{series.map((s) => <td key={s.name}>{s.points[i]?.[1] ?? '—'}</td>)}</tr>
          ))}
        </tbody>
      </table></div>
    </figure>
  );
}

export function BarList({ items, unit = '' }: { items: Array<{ label: string; value: number; hint?: string }>; unit?: string }) {
  const max = Math.max(1, ...items.map((i) => i.value));
  return (
    <ul className="barlist">
      {items.map((i) => (
        <li key={i.label}>
          <div className="barlist-row"><span className="mono">{i.label}</span><span>{i.value.toLocaleString('en-US')}{unit}{i.hint ? <span className="muted"> · {i.hint}</span> : null}</span></div>
          <div className="bar" aria-hidden="true"><div style={{ width: `${(i.value / max) * 100}%` }} /></div>
        </li>
      ))}
    </ul>
  );
}
