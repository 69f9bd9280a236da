// The chat page: asks through POST /v1/chat/completions as an OpenAI client does (the whole conversation each
// turn, streamed), shows the answer as it arrives with its [n] markers as links to the cited passages.
"use strict";

const $ = (id) => document.getElementById(id);
const keysOn = document.body.dataset.apiKeys === "on";
const history = [];   // OpenAI messages of this conversation: {role, content}
let model = null;     // the served model's id, from GET /v1/models

function headers(json) {
  const h = json ? { "Content-Type": "application/json" } : {};
  const key = $("api-key").value.trim();
  if (key) h.Authorization = `Bearer ${key}`;
  return h;
}

// The message of an OpenAI error body or of a problem detail.
async function errorMessage(response) {
  try {
    const body = await response.json();
    return body.error?.message ?? body.detail ?? body.title ?? `${response.status} ${response.statusText}`;
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

async function loadModel() {
  const response = await fetch("/v1/models", { headers: headers(false) });
  if (!response.ok) {
    $("model").textContent = response.status === 401 ? "enter an API key" : await errorMessage(response);
    return;
  }
  const list = await response.json();
  model = list.data[0]?.id ?? null;
  $("model").textContent = model ? `model: ${model}` : "no generator model loaded (see /readyz)";
}

async function loadTags() {
  const response = await fetch("/v1/documents?take=500", { headers: headers(false) });
  if (!response.ok) return;
  const tags = new Set((await response.json()).documents.flatMap((d) => d.tags));
  $("known-tags").replaceChildren(...[...tags].sort().map((t) => Object.assign(document.createElement("option"), { value: t })));
}

function addItem(cls) {
  const li = document.createElement("li");
  li.className = cls;
  $("conversation").append(li);
  return li;
}

// Text with each [n] marker that names a citation turned into a button opening it (text nodes only: no markup from the model).
function renderAnswer(element, text, citations) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(/\[(\d+)\]/g)) {
    const citation = citations.find((c) => c.number === Number(match[1]));
    if (!citation) continue;
    parts.push(document.createTextNode(text.slice(last, match.index)), citeButton(citation, match[0]));
    last = match.index + match[0].length;
  }
  parts.push(document.createTextNode(text.slice(last)));
  element.replaceChildren(...parts);
}

function citeButton(citation, label) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "cite";
  button.textContent = label;
  button.title = `${citation.source}#${citation.ordinal}`;
  button.addEventListener("click", () => openPassage(citation));
  return button;
}

function renderSources(item, citations) {
  const list = document.createElement("ol");
  list.className = "sources";
  for (const c of citations) {
    const li = document.createElement("li");
    li.append(citeButton(c, `[${c.number}] ${c.source}#${c.ordinal}`));
    list.append(li);
  }
  item.append(list);
}

// Opens a cited passage beside the conversation: its whole text and its source (a link when the source is a URL).
async function openPassage(citation) {
  $("passage").hidden = false;
  $("passage-title").textContent = `[${citation.number}] passage ${citation.ordinal}`;
  const source = $("passage-source");
  if (/^https?:\/\//i.test(citation.source)) {
    const link = Object.assign(document.createElement("a"), { href: citation.source, target: "_blank", rel: "noopener", textContent: citation.source });
    source.replaceChildren(link);
  } else {
    source.textContent = citation.source;
  }
  $("passage-meta").textContent = "";
  $("passage-text").textContent = citation.snippet;
  const id = encodeURIComponent(citation.document_id);
  const [chunk, documentInfo] = await Promise.all([
    fetch(`/v1/documents/${id}/chunks/${citation.ordinal}`, { headers: headers(false) }),
    fetch(`/v1/documents/${id}`, { headers: headers(false) }),
  ]);
  if (chunk.ok) $("passage-text").textContent = (await chunk.json()).text;
  if (documentInfo.ok) {
    const d = await documentInfo.json();
    const tags = d.tags.length ? ` · tags: ${d.tags.join(", ")}` : "";
    $("passage-meta").textContent = `${d.title ?? ""}${d.title ? " · " : ""}updated ${new Date(d.updated_at).toLocaleString()}${tags}`;
  }
}

// Server-sent events from a fetch body: calls onData with each event's data.
async function readEvents(response, onData) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const data = buffer.slice(0, end).split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
      buffer = buffer.slice(end + 2);
      if (data) onData(data);
    }
  }
}

async function ask(question) {
  addItem("user").textContent = question;
  const item = addItem("assistant");
  const answer = Object.assign(document.createElement("div"), { className: "answer" });
  item.append(answer);
  const tags = $("tags").value.split(",").map((t) => t.trim()).filter(Boolean);
  const messages = [...history, { role: "user", content: question }];
  const body = { messages, stream: true, ...(model ? { model } : {}), ...(tags.length ? { filters: { tags } } : {}) };

  const response = await fetch("/v1/chat/completions", { method: "POST", headers: headers(true), body: JSON.stringify(body) });
  if (!response.ok) {
    item.classList.add("error");
    answer.textContent = await errorMessage(response);
    return;
  }
  let text = "";
  let citations = [];
  await readEvents(response, (data) => {
    if (data === "[DONE]") return;
    const chunk = JSON.parse(data);
    if (chunk.error) throw new Error(chunk.error.message);
    if (chunk.citations) citations = chunk.citations;
    const piece = chunk.choices[0]?.delta?.content;
    if (piece) {
      text += piece;
      renderAnswer(answer, text, citations);
    }
  });
  renderAnswer(answer, text, citations);
  if (citations.length) renderSources(item, citations);
  else item.append(Object.assign(document.createElement("p"), { className: "muted", textContent: "No passage matched." }));
  history.push({ role: "user", content: question }, { role: "assistant", content: text });
}

$("ask").addEventListener("submit", async (event) => {
  event.preventDefault();
  const question = $("question").value.trim();
  if (!question) return;
  $("question").value = "";
  $("send").disabled = true;
  try {
    await ask(question);
  } catch (error) {
    const item = addItem("error");
    item.textContent = `The answer broke off: ${error.message}`;
  } finally {
    $("send").disabled = false;
    $("question").focus();
  }
});

$("question").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    $("ask").requestSubmit();
  }
});

$("new-chat").addEventListener("click", () => {
  history.length = 0;
  $("conversation").replaceChildren();
  $("passage").hidden = true;
});

$("close-passage").addEventListener("click", () => { $("passage").hidden = true; });

if (keysOn) {
  $("key-field").hidden = false;
  $("api-key").value = sessionStorage.getItem("rag.apiKey") ?? "";
  $("api-key").addEventListener("change", () => {
    sessionStorage.setItem("rag.apiKey", $("api-key").value.trim());
    loadModel();
    loadTags();
  });
}
loadModel();
loadTags();
