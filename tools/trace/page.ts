/**
 * The page of a traced run: one self-contained HTML file with an inline SVG
 * timeline (no network, no script from elsewhere). Time runs across; the
 * main thread's lane shows its three states (waiting in select/poll, running
 * a callback, blocked in a socket call), one lane per descriptor shows when
 * it was ready, read and how many bytes came, and delayed calls are marked
 * at their due time and when they ran. Every mark has an SVG `<title>`, shown
 * on hover. A line under the picture names the article's figure it is.
 *
 * Rows with more marks than can be drawn one by one are drawn per pixel
 * column instead (what took most of that column's time, and a count), so a
 * run of a million events still gives a page that opens.
 *
 * @example
 * ```ts
 * import { pageOf } from "./page.ts";
 * import { modelOfRun } from "./read.ts";
 * const html = pageOf(modelOfRun([]), { title: "empty" });
 * console.log(html.startsWith("<!DOCTYPE html>")); // true
 * ```
 *
 * @module
 */

import { durationText, holdingSentences } from "./account.ts";
import { laneName, type RunModel } from "./read.ts";

/** Width of the time axis, px. */
const PLOT_WIDTH = 1200;
/** Width of the lane names, px. */
const LABEL_WIDTH = 230;
const ROW_HEIGHT = 26;
const AXIS_HEIGHT = 24;
/** Above this many marks in one row, the row is drawn per pixel column. */
export const MARKS_DRAWN_ONE_BY_ONE = 2500;

/** The states and marks, and their colours. */
const COLOURS = {
  wait: "#d0d4da",
  callback: "#3b73c8",
  blocking: "#d23c3c",
  ready: "#2e9d4f",
  recv: "#7a4fc4",
  sent: "#c47a1f",
  due: "#888888",
  ran: "#3b73c8",
  late: "#d23c3c",
} as const;

type Kind = keyof typeof COLOURS;

/** One thing drawn in a row: a span (`endUs` given) or an instant. */
interface Mark {
  kind: Kind;
  startUs: number;
  endUs?: number;
  title: string;
  /** Text written inside a span wide enough. */
  text?: string;
  /** Draw as a thinner band (blocking inside a callback). */
  inner?: boolean;
}

interface Row {
  name: string;
  marks: Mark[];
}

/** Which of the article's figures a run is, and what to look at. */
export interface FigureCaption {
  /** The figure: `Figure 7 (doRead) inside Figure 5 (the reactor loop)`. */
  figure: string;
  /** What to look at in the picture. */
  look: string;
}

/**
 * Name the article's figure a run draws, and what to look at in it.
 *
 * @example
 * ```ts
 * import { figureOf } from "./page.ts";
 * import { modelOfRun } from "./read.ts";
 * console.log(figureOf(modelOfRun([])).figure); // no figure: nothing was recorded
 * ```
 *
 * @param run the model of the run
 * @returns the figure and the advice
 */
export function figureOf(run: RunModel): FigureCaption {
  if (run.eventCount === 0) {
    return { figure: "no figure: nothing was recorded", look: "the program never waited." };
  }
  if (run.reactor === undefined && run.sockets.length === 0 && run.blocking.length === 0) {
    return {
      figure: "no figure: no reactor ran and no socket call was recorded",
      look: "what the program printed: the trace holds only how it ended.",
    };
  }
  if (run.reactor === undefined) {
    const recvFds = run.sockets.filter((lane) => lane.reads.length > 0);
    if (recvFds.length >= 2 && !interleaved(run)) {
      return {
        figure: "Part 1, Figure 1: the synchronous model",
        look: "the main thread is blocked (red) on one socket at a time; " +
          "each task starts only when the one before it is done.",
      };
    }
    if (recvFds.length >= 2) {
      return {
        figure: "Part 1, Figure 3: the asynchronous model",
        look: "the lanes' reads interleave; the main thread blocks only to wait for any socket " +
          "at all, never for one in particular.",
      };
    }
    return {
      figure: "the sockets of a program without a reactor",
      look: "the red stretches: where the main thread waited in a socket call.",
    };
  }
  const readsByDoRead = run.callbacks.some((callback) => callback.args.kind === "doRead");
  if (readsByDoRead && holdingSentences(run).length > 0) {
    return {
      figure: "Figure 7 (doRead), gone wrong: the loop of Figure 5 held by one callback",
      look: "the long blue callbacks on the main thread, red where they block in a socket " +
        "call: meanwhile the loop cannot wait, and the other lanes' data waits too. The tasks " +
        "run one after another, as in Part 1's Figure 1.",
    };
  }
  if (readsByDoRead) {
    return {
      figure: "Figure 5 (the reactor loop), with Figure 7 (doRead) at each turn",
      look: "grey waits alternate with short blue doRead callbacks; the tasks' lanes " +
        "interleave, as in Part 1's Figure 3.",
    };
  }
  if (run.callbacks.length > 0) {
    return {
      figure: "Figure 6: the reactor making a callback",
      look: "the loop waits (grey) until a delayed call falls due (grey mark), then calls it " +
        "(blue); the gap between the two marks is how late it ran. While your function runs, " +
        "the reactor does nothing else.",
    };
  }
  return {
    figure: "Figure 5 (the reactor loop), stuck at its top",
    look: "one long grey wait: the reactor waits for an event that never comes, " +
      "using no CPU.",
  };
}

/** Whether reads on different sockets alternate (rather than one socket after another). */
function interleaved(run: RunModel): boolean {
  const reads: { fd: number; ts: number }[] = [];
  for (const lane of run.sockets) {
    for (const read of lane.reads) reads.push({ fd: lane.fd, ts: read.atUs });
  }
  reads.sort((a, b) => a.ts - b.ts);
  const seen = new Set<number>();
  let current = -1;
  for (const read of reads) {
    if (read.fd === current) continue;
    if (seen.has(read.fd)) return true;
    seen.add(read.fd);
    current = read.fd;
  }
  return false;
}

/**
 * The page of a run, as HTML text.
 *
 * @example
 * ```ts
 * import { pageOf } from "./page.ts";
 * import { modelOfRun } from "./read.ts";
 * const run = modelOfRun([
 *   { name: "run", cat: "reactor", ph: "i", ts: 0, pid: 1, tid: 1, args: { reactor: "SelectReactor" } },
 *   { name: "wait", cat: "reactor", ph: "B", ts: 10, pid: 1, tid: 1, args: { readers: [], writers: [], timeout: 1 } },
 *   { name: "wait", cat: "reactor", ph: "E", ts: 1_000_010, pid: 1, tid: 1, args: { readable: [], writable: [] } },
 * ]);
 * console.log(pageOf(run, { title: "a wait" }).includes("<svg")); // true
 * ```
 *
 * @param run the model of the run
 * @param options the page's title, and an account to show under the figure
 * @returns the HTML
 */
export function pageOf(run: RunModel, options: { title: string; account?: string[] }): string {
  const caption = figureOf(run);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escape(options.title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px; color: #222; }
svg text { font: 11px system-ui, sans-serif; }
.figure { margin: 8px 0; }
pre { background: #f5f5f5; padding: 8px; }
</style>
</head>
<body>
<h1>${escape(options.title)}</h1>
${svgOf(run, caption)}
${options.account ? `<pre>${escape(options.account.join("\n"))}</pre>` : ""}
</body>
</html>
`;
}

/**
 * Several runs on one page, side by side (two a row) and on one time scale, so
 * that their lengths compare: the tour's page of its four clients.
 *
 * @example
 * ```ts
 * import { pagesSideBySide } from "./page.ts";
 * import { modelOfRun } from "./read.ts";
 * const html = pagesSideBySide("the tour", [{ title: "a", run: modelOfRun([]) }]);
 * console.log(html.includes("<h2>a</h2>")); // true
 * ```
 *
 * @param title the page's title
 * @param runs each run with its heading
 * @returns the HTML
 */
export function pagesSideBySide(
  title: string,
  runs: readonly { title: string; run: RunModel; note?: string }[],
): string {
  const spanUs = Math.max(1, ...runs.map(({ run }) => run.endUs - run.startUs));
  const figures = runs.map(({ title, run, note }) =>
    `<section><h2>${escape(title)}</h2>${note ? `<p>${escape(note)}</p>` : ""}\n` +
    `${svgOf(run, figureOf(run), spanUs)}</section>`
  );
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escape(title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px; color: #222; }
.runs { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.runs svg { width: 100%; height: auto; }
svg text { font: 11px system-ui, sans-serif; }
</style>
</head>
<body>
<h1>${escape(title)}</h1>
<p>All on one time scale: the same width is the same time in each.</p>
<div class="runs">
${figures.join("\n")}
</div>
</body>
</html>
`;
}

/**
 * One run's figure: the inline SVG and its caption, for a page of its own or
 * one of several side by side (the tour's page).
 *
 * @example
 * ```ts
 * import { figureOf, svgOf } from "./page.ts";
 * import { modelOfRun } from "./read.ts";
 * const run = modelOfRun([]);
 * console.log(svgOf(run, figureOf(run)).includes("</svg>")); // true
 * ```
 *
 * @param run the model of the run
 * @param caption what {@linkcode figureOf} says of it
 * @param spanUs how much time the axis covers (default: the run's own span); give
 *   several figures the same to compare them
 * @returns HTML: a `<figure>` with the SVG and a caption
 */
export function svgOf(run: RunModel, caption: FigureCaption, spanUs?: number): string {
  const rows = rowsOf(run);
  const startUs = run.startUs;
  spanUs = Math.max(1, spanUs ?? run.endUs - run.startUs);
  const xOf = (us: number) => LABEL_WIDTH + ((us - startUs) / spanUs) * PLOT_WIDTH;
  const height = AXIS_HEIGHT + rows.length * ROW_HEIGHT + 8;
  const width = LABEL_WIDTH + PLOT_WIDTH + 10;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" role="img">`,
  );
  parts.push(axisOf(spanUs, height, xOf, startUs));
  rows.forEach((row, index) => {
    const top = AXIS_HEIGHT + index * ROW_HEIGHT;
    parts.push(
      `<g class="lane" data-lane="${escape(row.name)}">` +
        `<text x="4" y="${top + ROW_HEIGHT / 2 + 4}">${escape(row.name)}</text>` +
        `<line x1="${LABEL_WIDTH}" x2="${LABEL_WIDTH + PLOT_WIDTH}" y1="${
          top + ROW_HEIGHT - 1
        }" y2="${top + ROW_HEIGHT - 1}" stroke="#eee"/>`,
    );
    parts.push(
      row.marks.length > MARKS_DRAWN_ONE_BY_ONE
        ? bucketedMarks(row.marks, top, startUs, spanUs)
        : row.marks.map((mark) => markSvg(mark, top, xOf)).join("") +
          // Labels last, so that no mark covers them.
          row.marks.map((mark) => labelSvg(mark, top, xOf)).join(""),
    );
    parts.push("</g>");
  });
  parts.push("</svg>");
  return `<figure>
${parts.join("\n")}
<figcaption class="figure"><b>${escape(caption.figure)}.</b> Look at ${escape(caption.look)}
</figcaption>
<p class="legend">${legend()}</p>
</figure>`;
}

function legend(): string {
  const entries: [Kind, string][] = [
    ["wait", "waiting in select/poll"],
    ["callback", "running a callback"],
    ["blocking", "blocked in a socket call"],
    ["ready", "ready"],
    ["recv", "bytes received"],
    ["due", "delayed call due"],
    ["ran", "delayed call ran"],
  ];
  return entries.map(([kind, text]) =>
    `<span style="display:inline-block;width:10px;height:10px;background:${
      COLOURS[kind]
    }"></span> ${text}`
  ).join(" &nbsp; ");
}

function axisOf(
  spanUs: number,
  height: number,
  xOf: (us: number) => number,
  startUs: number,
): string {
  const seconds = spanUs / 1_000_000;
  const steps = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 60, 120];
  const step = steps.find((candidate) => seconds / candidate <= 12) ?? 300;
  const parts: string[] = [];
  for (let tick = 0; tick <= seconds + 1e-9; tick += step) {
    const x = xOf(startUs + tick * 1_000_000).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${AXIS_HEIGHT - 6}" y2="${height}" stroke="#f0f0f0"/>` +
        `<text x="${x}" y="${AXIS_HEIGHT - 9}" text-anchor="middle">${
          Number(tick.toFixed(3))
        } s</text>`,
    );
  }
  return `<g class="axis">${parts.join("")}</g>`;
}

function markSvg(mark: Mark, top: number, xOf: (us: number) => number): string {
  const title = `<title>${escape(mark.title)}</title>`;
  const colour = COLOURS[mark.kind];
  if (mark.endUs === undefined) {
    const x = xOf(mark.startUs).toFixed(1);
    if (mark.kind === "due") {
      return `<circle class="mark ${mark.kind}" cx="${x}" cy="${top + 8}" r="3.5" fill="none" ` +
        `stroke="${colour}" stroke-width="1.5">${title}</circle>`;
    }
    if (mark.kind === "ran" || mark.kind === "late") {
      return `<circle class="mark ${mark.kind}" cx="${x}" cy="${top + 17}" r="3.5" ` +
        `fill="${colour}">${title}</circle>`;
    }
    const y = mark.kind === "ready" ? top + 2 : top + 12;
    return `<rect class="mark ${mark.kind}" x="${x}" y="${y}" width="2" height="10" ` +
      `fill="${colour}">${title}</rect>`;
  }
  const x0 = xOf(mark.startUs);
  const width = Math.max(0.6, xOf(mark.endUs) - x0);
  const y = mark.inner ? top + 8 : top + 3;
  const h = mark.inner ? ROW_HEIGHT - 16 : ROW_HEIGHT - 7;
  const extra = (mark.kind === "blocking" ? ` data-blocking="true"` : "") +
    ` data-us="${Math.round(mark.endUs - mark.startUs)}"`;
  return `<rect class="mark ${mark.kind}"${extra} x="${x0.toFixed(1)}" y="${y}" ` +
    `width="${width.toFixed(1)}" height="${h}" fill="${colour}">${title}</rect>`;
}

/** A span's label, written inside it when it is wide enough. */
function labelSvg(mark: Mark, top: number, xOf: (us: number) => number): string {
  if (mark.text === undefined || mark.endUs === undefined) return "";
  const x0 = xOf(mark.startUs);
  if (xOf(mark.endUs) - x0 <= mark.text.length * 6 + 6) return "";
  return `<text x="${(x0 + 3).toFixed(1)}" y="${top + 17}" fill="#fff" font-weight="bold" ` +
    `pointer-events="none">${escape(mark.text)}</text>`;
}

/** A row with too many marks: per pixel column, what took most of its time, and a count. */
function bucketedMarks(marks: readonly Mark[], top: number, startUs: number, spanUs: number) {
  const columns = PLOT_WIDTH;
  const usPerColumn = spanUs / columns;
  const time = new Map<Kind, Float64Array>();
  const counts = new Uint32Array(columns);
  for (const mark of marks) {
    const first = Math.min(
      columns - 1,
      Math.max(0, Math.floor((mark.startUs - startUs) / usPerColumn)),
    );
    counts[first]++;
    let perKind = time.get(mark.kind);
    if (perKind === undefined) {
      perKind = new Float64Array(columns);
      time.set(mark.kind, perKind);
    }
    const endUs = mark.endUs ?? mark.startUs + usPerColumn * 0.5;
    const last = Math.min(columns - 1, Math.max(0, Math.floor((endUs - startUs) / usPerColumn)));
    for (let column = first; column <= last; column++) {
      const columnStart = startUs + column * usPerColumn;
      const overlap = Math.min(endUs, columnStart + usPerColumn) -
        Math.max(mark.startUs, columnStart);
      perKind[column] += Math.max(overlap, 0);
    }
  }
  const parts: string[] = [];
  let runStart = 0;
  let runKind: Kind | undefined;
  let runCount = 0;
  const flush = (end: number) => {
    if (runKind === undefined) return;
    parts.push(
      `<rect class="mark ${runKind} bucket" x="${LABEL_WIDTH + runStart}" y="${top + 3}" ` +
        `width="${end - runStart}" height="${ROW_HEIGHT - 7}" fill="${COLOURS[runKind]}">` +
        `<title>${runCount} events here, mostly ${runKind}; ${
          durationText(usPerColumn * (end - runStart))
        } of the run</title></rect>`,
    );
  };
  for (let column = 0; column < columns; column++) {
    let best: Kind | undefined;
    let bestTime = 0;
    for (const [kind, perKind] of time) {
      if (perKind[column] > bestTime) {
        best = kind;
        bestTime = perKind[column];
      }
    }
    if (best !== runKind) {
      flush(column);
      runStart = column;
      runKind = best;
      runCount = 0;
    }
    runCount += counts[column];
  }
  flush(columns);
  return parts.join("");
}

/** The rows of the picture: main thread, delayed calls, one per descriptor. */
function rowsOf(run: RunModel): Row[] {
  const main: Mark[] = [];
  for (const wait of run.waits) {
    const endUs = wait.endUs ?? run.endUs;
    const ready = [...wait.readable, ...wait.writable];
    main.push({
      kind: "wait",
      startUs: wait.startUs,
      endUs,
      title: `waiting ${durationText(endUs - wait.startUs)} on readers [${wait.readers}] ` +
        `writers [${wait.writers}], timeout ${
          wait.timeout === null ? "none" : `${wait.timeout.toFixed(3)} s`
        }; ready: [${ready}]`,
    });
  }
  for (const callback of run.callbacks) {
    if (!callback.topLevel) continue;
    const outcome = callback.args.outcome && callback.args.outcome !== "ok"
      ? `, ${callback.args.outcome}${callback.args.detail ? ` ${callback.args.detail}` : ""}`
      : "";
    main.push({
      kind: "callback",
      startUs: callback.startUs,
      endUs: callback.startUs + callback.durUs,
      title: `${callback.label}: ran ${durationText(callback.durUs)}${outcome}`,
      text: callback.label,
    });
  }
  for (const call of run.blocking) {
    const endUs = call.endUs ?? run.endUs;
    // A program's own select or poll waits for any socket: drawn as the loop's waits are.
    const waitingForAny = call.name === "select" || call.name === "poll";
    main.push({
      kind: waitingForAny ? "wait" : "blocking",
      startUs: call.startUs,
      endUs,
      inner: call.insideCallback !== undefined,
      title: `blocked in ${call.name}${call.fd === undefined ? "" : ` on fd ${call.fd}`} for ` +
        `${durationText(endUs - call.startUs)}` +
        (call.bytes === undefined ? "" : `, ${call.bytes} bytes`) +
        (call.insideCallback === undefined ? "" : `, inside ${call.insideCallback}`),
    });
  }
  main.sort((a, b) => a.startUs - b.startUs);
  const rows: Row[] = [{ name: "main thread", marks: main }];
  if (run.delayed.length > 0) {
    const marks: Mark[] = [];
    for (const life of run.delayed) {
      marks.push({
        kind: "due",
        startUs: life.dueUs,
        title: `${life.label} due (scheduled with a delay of ${life.delayS.toFixed(3)} s)` +
          (life.cancelledUs !== undefined ? ", cancelled" : ""),
      });
      if (life.firedUs !== undefined) {
        const late = life.lateUs ?? 0;
        marks.push({
          kind: late > 10_000 ? "late" : "ran",
          startUs: life.firedUs,
          title: `${life.label} ran ${durationText(late)} late`,
        });
      }
    }
    rows.push({ name: "delayed calls", marks });
  }
  for (const lane of run.sockets) {
    const marks: Mark[] = [];
    // A descriptor number may have served several sockets, one after another.
    const during = (us: number) => us >= lane.firstUs && us <= (lane.closedUs ?? Infinity);
    for (const readyUs of lane.readyUs) {
      marks.push({ kind: "ready", startUs: readyUs, title: `fd ${lane.fd} ready` });
    }
    for (const callback of run.callbacks) {
      if (callback.args.fd !== lane.fd || !callback.topLevel || !during(callback.startUs)) {
        continue;
      }
      marks.push({
        kind: "callback",
        startUs: callback.startUs,
        endUs: callback.startUs + callback.durUs,
        title: `${callback.label}: ${durationText(callback.durUs)}`,
      });
    }
    for (const call of run.blocking) {
      if (call.fd !== lane.fd || !during(call.startUs)) continue;
      marks.push({
        kind: "blocking",
        startUs: call.startUs,
        endUs: call.endUs ?? run.endUs,
        inner: true,
        title: `blocked in ${call.name} ${durationText((call.endUs ?? run.endUs) - call.startUs)}`,
      });
    }
    for (const event of lane.events) {
      if (event.name !== "recv" && event.name !== "sent") continue;
      const bytes = Number(event.args?.bytes ?? 0);
      marks.push({
        kind: event.name,
        startUs: event.ts,
        title: `${event.name} ${bytes} bytes${
          event.name === "recv" && bytes === 0 ? " (end)" : ""
        }`,
      });
    }
    marks.sort((a, b) => a.startUs - b.startUs);
    const bytes = lane.bytesIn > 0 ? `, ${lane.bytesIn} B in` : "";
    rows.push({ name: `${laneName(lane)}${bytes}`, marks });
  }
  return rows;
}

/**
 * Text made safe for HTML and SVG.
 *
 * @example
 * ```ts
 * import { escape } from "./page.ts";
 * console.log(escape("<a & b>")); // &lt;a &amp; b&gt;
 * ```
 *
 * @param text any text
 * @returns the text with `&`, `<`, `>` and `"` escaped
 */
export function escape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}
