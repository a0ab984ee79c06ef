// A small inline SVG chart: traces per day for the top end-users, one strip
// of bars per user on a shared scale (small multiples: no overlapping
// lines, no colour legend to decode).

import { h, s } from './dom.js';

const W = 420;
const H = 34;
const GAP = 2;

function shortDay(day) {
  const [, m, d] = day.split('-');
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  return `${months[Number(m) - 1]} ${Number(d)}`;
}

function strip(line, days, max) {
  const barW = (W - GAP * (days.length - 1)) / days.length;
  return s('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'strip',
    preserveAspectRatio: 'none',
    role: 'img',
    'aria-label': `${line.end_user}: ${line.counts.map((c, i) => `${c} on ${days[i]}`).join(', ')}`,
  },
  s('line', { class: 'baseline', x1: 0, x2: W, y1: H - 0.5, y2: H - 0.5 }),
  line.counts.map((c, i) => {
    const barH = c ? Math.max(2, (c / max) * (H - 2)) : 0;
    return barH
      ? s('rect', { class: 'bar-day', x: i * (barW + GAP), y: H - barH, width: barW, height: barH, rx: 1.5 },
        s('title', null, `${line.end_user}: ${c} on ${days[i]}`))
      : null;
  }));
}

/** `report`: `{ days: [...], series: [{ end_user, counts, total }] }` from `/api/end-users/daily`. */
export function dailyChart(report) {
  const { days, series } = report;
  const max = Math.max(1, ...series.flatMap((x) => x.counts));
  const peak = (line) => Math.max(...line.counts);
  const figure = h('figure', { class: 'chart-figure', id: 'daily-chart' },
    h('div', { class: 'strips' },
      series.map((line) => h('div', { class: 'strip-row', 'data-end-user': line.end_user },
        h('span', { class: 'strip-user', title: line.end_user }, line.end_user),
        strip(line, days, max),
        h('span', { class: 'strip-total' }, `${line.total}`, h('span', { class: 'muted' }, ` · peak ${peak(line)}/day`)))),
      h('div', { class: 'strip-row strip-axis', 'aria-hidden': 'true' },
        h('span', null),
        h('span', { class: 'axis' }, h('span', null, shortDay(days[0])), h('span', null, shortDay(days[days.length - 1]))),
        h('span', null))),
    h('figcaption', { class: 'help' },
      `Traces per day (UTC), ${days[0]} to ${days[days.length - 1]}; bars share one scale, the tallest is ${max}.`),
    h('details', { class: 'chart-table' },
      h('summary', null, 'Show as a table'),
      h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Day'), series.map((line) => h('th', { scope: 'col', class: 'num' }, line.end_user)))),
        h('tbody', null, days.map((day, i) => h('tr', null,
          h('th', { scope: 'row' }, day), series.map((line) => h('td', { class: 'num' }, String(line.counts[i]))))))))));
  return figure;
}
