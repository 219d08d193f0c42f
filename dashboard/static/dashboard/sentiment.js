// The sentiment box with JavaScript: the text goes to POST /api/data/sentiment (the data plane,
// same origin, no cookie needed) and the score is shown in place. Without JavaScript the form
// posts to /sentiment, which scores the same way and renders the page again.
const form = document.getElementById("score-form");
const result = document.getElementById("score-result");

function line(tag, className, text, id) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (id) el.id = id;
  el.textContent = text;
  return el;
}

function show(answer) {
  const scored = answer.data.scores[0];
  const p = line("p", "", "Score ", "score-answer");
  p.append(line("strong", `score ${scored.label}`, scored.score.toFixed(3), "score-value"), " · ",
    line("span", `score ${scored.label}`, scored.label, "score-label"));
  const meta = answer.meta;
  const provenance = line("p", "provenance", `source: ${meta.source} · ${meta.served} · ${meta.fetched_at}`);
  result.replaceChildren(p, provenance);
}

async function submit(event) {
  event.preventDefault();
  const text = form.elements.text.value;
  try {
    const response = await fetch("/api/data/sentiment", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ texts: [text] }),
    });
    const answer = await response.json();
    if (!response.ok) {
      // A field error names its field; a refusal (no key or session, over the limit) its status.
      const where = answer.field ? answer.field : `HTTP ${response.status}`;
      result.replaceChildren(line("p", "error", `${where}: ${answer.detail}`, "score-error"));
      return;
    }
    show(answer);
  } catch (error) {
    result.replaceChildren(line("p", "error", `could not score: ${error.message}`, "score-error"));
  }
}

if (form && result) form.addEventListener("submit", submit);
