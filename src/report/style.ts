/** The report's stylesheet (inlined in the page; system fonts only, nothing fetched). */

/** Colours shared by the CSS and the drawings (ground truth, predictions, labelled region). */
export const COLORS = {
  ink: "#1f2430",
  muted: "#5b6475",
  accent: "#2f5fb3",
  groundTruth: "#19a35b",
  prediction: "#e8590c",
  region: "#f2c200",
  warn: "#9a6700",
} as const;

export const CSS = `
:root {
  --ink: ${COLORS.ink};
  --muted: ${COLORS.muted};
  --accent: ${COLORS.accent};
  --line: #dfe3ea;
  --panel: #f6f7f9;
  --gt: ${COLORS.groundTruth};
  --pred: ${COLORS.prediction};
  --region: ${COLORS.region};
  --warn-bg: #fff8e1;
  --warn-line: #f0c36d;
  --bad-bg: #fdecea;
  --bad-line: #e5a3a0;
}
* { box-sizing: border-box; }
html { scroll-behavior: smooth; scroll-padding-top: 3.5rem; }
body {
  margin: 0;
  color: var(--ink);
  background: #fff;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
header.top { padding: 1.5rem 2rem 1rem; border-bottom: 1px solid var(--line); background: var(--panel); }
header.top h1 { margin: 0 0 0.25rem; font-size: 1.5rem; font-weight: 650; }
header.top .kind { color: var(--muted); font-size: 0.95rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 1rem; margin: 0.9rem 0 0; font-size: 0.9rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.85rem; }
nav.sections {
  position: sticky; top: 0; z-index: 5;
  display: flex; flex-wrap: wrap; gap: 0.25rem 1.1rem;
  padding: 0.6rem 2rem; background: rgba(255, 255, 255, 0.96); border-bottom: 1px solid var(--line);
  font-size: 0.9rem;
}
nav.sections a { color: var(--accent); text-decoration: none; }
nav.sections a:hover { text-decoration: underline; }
main { max-width: 1240px; padding: 0 2rem 3rem; }
section { padding-top: 1.2rem; border-bottom: 1px solid var(--line); padding-bottom: 1.4rem; }
section:last-child { border-bottom: none; }
h2 { font-size: 1.2rem; margin: 0.6rem 0 0.5rem; }
h3 { font-size: 1rem; margin: 1.1rem 0 0.4rem; }
p.lead, p.hint { color: var(--muted); margin: 0.2rem 0 0.8rem; max-width: 60rem; }
p.hint { font-size: 0.85rem; }
.cards { display: flex; flex-wrap: wrap; gap: 0.75rem; margin: 0.6rem 0 1rem; }
.card { min-width: 8.5rem; padding: 0.6rem 0.9rem; border: 1px solid var(--line); border-radius: 8px; background: #fff; }
.card .value { font-size: 1.45rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .label { color: var(--muted); font-size: 0.8rem; }
.card.meaningless .value { color: #9aa1ad; text-decoration: line-through; text-decoration-thickness: 1px; }
.callout { margin: 0.6rem 0 1rem; padding: 0.6rem 0.9rem; border-radius: 6px; border: 1px solid var(--line); background: var(--panel); max-width: 60rem; }
.callout.warn { background: var(--warn-bg); border-color: var(--warn-line); }
.callout.bad { background: var(--bad-bg); border-color: var(--bad-line); }
.callout code { font-size: 0.85em; }
.callout ul { margin: 0.3rem 0 0; padding-left: 1.2rem; }
table.data { border-collapse: collapse; margin: 0.4rem 0 0.8rem; font-size: 0.88rem; }
table.data th, table.data td { padding: 0.3rem 0.7rem; border-bottom: 1px solid var(--line); text-align: left; }
table.data th { background: var(--panel); font-weight: 600; white-space: nowrap; }
table.data td.num, table.data th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.data tr.total td { font-weight: 650; border-bottom: 2px solid var(--line); }
table.data td.meaningless { color: #9aa1ad; }
table.data td.meaningless::after { content: " †"; }
table.data caption { caption-side: bottom; text-align: left; color: var(--muted); font-size: 0.8rem; padding-top: 0.3rem; }
.scroll { overflow-x: auto; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
figure.chart { width: min-content; margin: 0; padding: 0.4rem; border: 1px solid var(--line); border-radius: 8px; background: #fff; }
figure.chart figcaption { color: var(--muted); font-size: 0.8rem; padding: 0.2rem 0.4rem 0; }
figure.chart svg { display: block; }
.legend-key { display: inline-flex; align-items: center; gap: 0.35rem; margin-right: 1rem; font-size: 0.85rem; }
.legend-key i { display: inline-block; width: 1.4rem; height: 0; border-top: 3px solid; }
.legend-key i.gt { border-color: var(--gt); }
.legend-key i.pred { border-color: var(--pred); }
.legend-key i.region { border-color: var(--region); border-top-style: dashed; }
.toggles { margin: 0.3rem 0 0.8rem; font-size: 0.9rem; }
.toggles input { margin: 0 0.3rem 0.8rem 0; vertical-align: middle; }
.toggles label { cursor: pointer; user-select: none; margin-right: 1.1rem; vertical-align: middle; }
#show-gt:not(:checked) ~ .gallery .gt,
#show-pred:not(:checked) ~ .gallery .pred,
#show-region:not(:checked) ~ .gallery .region,
#show-labels:not(:checked) ~ .gallery .tag { display: none; }
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(270px, 1fr)); gap: 1rem; }
figure.shot { margin: 0; border: 1px solid var(--line); border-radius: 8px; overflow: hidden; background: #fff; }
figure.shot .frame { position: relative; background: #ececec; }
figure.shot .frame img { display: block; width: 100%; height: auto; }
figure.shot .frame svg { position: absolute; inset: 0; width: 100%; height: 100%; }
figure.shot .missing { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; padding: 1rem; color: var(--muted); font-size: 0.8rem; text-align: center; }
figure.shot figcaption { padding: 0.45rem 0.6rem; font-size: 0.8rem; }
figure.shot figcaption .file { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
figure.shot figcaption .counts { color: var(--muted); }
figure.shot details { padding: 0 0.6rem 0.5rem; font-size: 0.8rem; }
figure.shot details table.data { font-size: 0.78rem; }
.overlay .box { fill: none; stroke-width: 2px; }
.overlay .gt .box { stroke: var(--gt); }
.overlay .pred .box { stroke: var(--pred); }
.overlay .region .box { stroke: var(--region); stroke-dasharray: 6 4; }
.overlay .tag rect { fill: var(--pred); opacity: 0.85; }
.overlay .tag text { fill: #fff; font-family: system-ui, sans-serif; }
ul.files { columns: 3 14rem; font-size: 0.85rem; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
footer { color: var(--muted); font-size: 0.8rem; padding: 1rem 2rem 2rem; }
@media print { nav.sections { position: static; } }
`;
