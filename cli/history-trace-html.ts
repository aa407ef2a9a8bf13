import type { HistoryRecord } from '../base/build-record.js';
import { buildSpan } from './history-trace.js';

/** MAX_STEP_LOG_BYTES bounds the log kept of one step in the page: its last bytes, with a note naming the full log's command. */
export const MAX_STEP_LOG_BYTES = 1024 * 1024;

/** TracePageStep is what the page's script knows of one step. */
interface TracePageStep {
  readonly index: number;
  readonly name: string;
  readonly status: string;
  readonly cached: boolean;
  readonly lane: number;
  /** ms from the build's start. */
  readonly start: number;
  readonly end: number;
  readonly log: string;
}

const STYLE = `
body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222;background:#fff}
h1{font-size:16px;margin:0 0 4px}
#summary{color:#555;margin:0 0 12px}
#chart{position:relative;border-left:1px solid #999;margin-left:0}
.axis{position:relative;height:18px;border-bottom:1px solid #999;margin-bottom:4px}
.tick{position:absolute;top:0;font-size:11px;color:#666;transform:translateX(-50%)}
.lane{position:relative;height:22px;margin:2px 0;background:#f6f6f6}
.bar{position:absolute;top:1px;height:20px;min-width:5px;box-sizing:border-box;background:#3b7dd8;color:#fff;border-radius:3px;
 font-size:11px;line-height:20px;padding:0 4px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;cursor:pointer}
.bar.cached{background:repeating-linear-gradient(45deg,#9fc79a,#9fc79a 4px,#b9d9b4 4px,#b9d9b4 8px);color:#234}
.bar.failed{background:#d3452f}
.bar.cancelled{background:#999}
.bar.selected{outline:2px solid #000}
#legend span{display:inline-block;margin-right:12px}
#legend i{display:inline-block;width:12px;height:12px;vertical-align:middle;margin-right:4px;border-radius:2px}
#detail h2{font-size:14px;margin:16px 0 4px}
#log{background:#111;color:#ddd;padding:8px;white-space:pre-wrap;word-break:break-all;max-height:50vh;overflow:auto;min-height:2em}
`;

// The page's script: draws the lanes and bars from the embedded data, and shows a step's log when its bar is clicked.
const SCRIPT = `
(function(){
  var data = JSON.parse(document.getElementById('trace-data').textContent);
  var total = Math.max(data.duration, 1);
  var chart = document.getElementById('chart');
  var axis = document.createElement('div');
  axis.className = 'axis';
  var tickStep = niceStep(total / 8);
  for (var t = 0; t <= total; t += tickStep) {
    var tick = document.createElement('span');
    tick.className = 'tick';
    tick.style.left = (t / total * 100) + '%';
    // The first label starts at the axis instead of centring on it, where its left half would be cut off.
    if (t === 0) tick.style.transform = 'none';
    tick.textContent = (t / 1000).toFixed(tickStep < 1000 ? 1 : 0) + 's';
    axis.appendChild(tick);
  }
  chart.appendChild(axis);
  var lanes = [];
  for (var i = 0; i < data.lanes; i++) {
    var lane = document.createElement('div');
    lane.className = 'lane';
    chart.appendChild(lane);
    lanes.push(lane);
  }
  var title = document.getElementById('detail-title');
  var log = document.getElementById('log');
  data.steps.forEach(function(s){
    var bar = document.createElement('div');
    bar.className = 'bar' + (s.cached ? ' cached' : '') + (s.status === 'failed' ? ' failed' : '') + (s.status === 'cancelled' ? ' cancelled' : '');
    bar.dataset.step = String(s.index);
    bar.style.left = (s.start / total * 100) + '%';
    bar.style.width = ((s.end - s.start) / total * 100) + '%';
    bar.textContent = '#' + s.index + ' ' + s.name;
    // A cache hit's status already says so.
    var state = s.status + (s.cached && s.status !== 'cached' ? ', cached' : '');
    bar.title = '#' + s.index + ' ' + s.name + '\\n' + state + ', ' + ((s.end - s.start) / 1000).toFixed(3) + 's';
    bar.addEventListener('click', function(){
      var prev = document.querySelector('.bar.selected');
      if (prev) prev.classList.remove('selected');
      bar.classList.add('selected');
      title.textContent = '#' + s.index + ' ' + s.name + ' (' + state + ')';
      log.textContent = s.log === '' ? '(no output)' : s.log;
    });
    lanes[s.lane].appendChild(bar);
  });
  // A link to #step-N opens with that step's output shown.
  var asked = /^#step-(\\d+)$/.exec(location.hash);
  var first = asked && document.querySelector('.bar[data-step="' + asked[1] + '"]');
  if (first) first.click();
  function niceStep(raw){
    var p = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1))));
    var m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
})();
`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** stepLog is the text the page keeps of one step's output: all of it, or its last MAX_STEP_LOG_BYTES. */
function stepLog(record: HistoryRecord, step: number, bytes: Buffer | undefined): string {
  if (bytes === undefined) return '';
  if (bytes.length <= MAX_STEP_LOG_BYTES) return bytes.toString('utf8');
  const note = `[${bytes.length - MAX_STEP_LOG_BYTES} earlier bytes left out: tbuild history logs ${record.ref} --step ${step} prints them all]\n`;
  return note + bytes.subarray(bytes.length - MAX_STEP_LOG_BYTES).toString('utf8');
}

/**
 * traceHtml writes a record's trace as one self-contained HTML page (inline style and script, nothing fetched): a bar
 * per step on a time axis, lanes for steps that ran at once, cache hits hatched, and a step's log shown on click.
 * `logs` holds each step's output by step index.
 */
export function traceHtml(record: HistoryRecord, logs: ReadonlyMap<number, Buffer>): string {
  const span = buildSpan(record);
  const steps: TracePageStep[] = span.steps.map((t) => ({
    index: t.step.index,
    name: t.step.name,
    status: t.step.status,
    cached: t.step.cached,
    lane: t.lane,
    start: t.start - span.start,
    end: t.end - span.start,
    log: stepLog(record, t.step.index, logs.get(t.step.index)),
  }));
  const data = { ref: record.ref, duration: span.end - span.start, lanes: span.lanes, steps };
  // In a script element only "</" could end it early: every "<" is written as its JSON escape.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const cached = steps.filter((s) => s.cached).length;
  const summary = `${record.status}, ${((span.end - span.start) / 1000).toFixed(1)}s, ${steps.length} steps (${cached} cached), started ${new Date(span.start).toISOString()}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>tbuild build ${escapeHtml(record.ref)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Build ${escapeHtml(record.ref)}${record.request.target === undefined ? '' : ` (target ${escapeHtml(record.request.target)})`}</h1>
<p id="summary">${escapeHtml(summary)}</p>
<p id="legend"><span><i style="background:#3b7dd8"></i>ran</span><span><i style="background:#9fc79a"></i>cached</span><span><i style="background:#d3452f"></i>failed</span><span><i style="background:#999"></i>cancelled</span></p>
<div id="chart"></div>
<section id="detail"><h2 id="detail-title">Click a step to see its output</h2><pre id="log"></pre></section>
<script type="application/json" id="trace-data">${json}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
