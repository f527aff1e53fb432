// <tidings-inbox>: the member's Tidings inbox inside a vendor's own partner portal.
// No dependencies, no build step. Usage:
//   <script type="module" src="https://tidings.example.com/widget/tidings-inbox.js"></script>
//   <tidings-inbox src="https://tidings.example.com" token="tw1.…"></tidings-inbox>
// The token is signed by the vendor's server (see docs/widget.md); the page's origin must
// be in Tidings' [widget] allowed_origins. Text from messages is set as text; the message
// sections arrive as HTML already sanitized by Tidings.

const STYLE = `
:host { display: block; font: 15px/1.45 system-ui, sans-serif; color: #1b1f24; }
ul { list-style: none; margin: 0; padding: 0; }
li button.item { display: block; width: 100%; text-align: left; background: #fff; border: 1px solid #d4d9df;
  border-left: 5px solid #2f5d50; border-radius: 6px; margin: 0 0 .5rem; padding: .6rem .8rem; font: inherit; cursor: pointer; }
li.critical button.item { border-left-color: #a4161a; background: #fff6f6; }
li.action button.item { border-left-color: #8a4b00; }
li.unread .title { font-weight: 800; }
.title { display: block; }
.summary, .meta { display: block; color: #4d5560; font-size: .9em; }
.badge { font-size: .8em; font-weight: 700; color: #fff; background: #a4161a; border-radius: 999px; padding: 0 .5em; }
.message h3 { margin: .25rem 0; }
.message h4 { margin: .75rem 0 .25rem; }
.statement { border-left: 4px solid #0b4f9c; background: #f4f6f8; padding: .4rem .8rem; font-weight: 600; }
button.primary { background: #0b4f9c; color: #fff; border: 0; border-radius: 6px; padding: .5rem 1rem; font: inherit; cursor: pointer; min-height: 44px; }
button.link { background: none; border: 0; color: #0b4f9c; text-decoration: underline; font: inherit; cursor: pointer; padding: 0; }
:focus-visible { outline: 3px solid #f2a900; outline-offset: 2px; }
.error { color: #a4161a; font-weight: 600; }
`;

// The component's own words, in the language of the page around it (or the browser's).
const TEXTS = {
  en: { empty: "No messages.", back: "Back to the list", acknowledge: "I confirm", acknowledged: "Acknowledged",
        needsAck: "Acknowledgment needed", whatChanged: "What changed", whyItMatters: "Why it matters",
        whatToDo: "What to do next", failed: "The inbox could not be loaded." },
  de: { empty: "Keine Nachrichten.", back: "Zurück zur Liste", acknowledge: "Ich bestätige", acknowledged: "Bestätigt",
        needsAck: "Bestätigung erforderlich", whatChanged: "Was sich ändert", whyItMatters: "Warum es wichtig ist",
        whatToDo: "Was jetzt zu tun ist", failed: "Der Posteingang konnte nicht geladen werden." },
  fr: { empty: "Aucun message.", back: "Retour à la liste", acknowledge: "Je confirme", acknowledged: "Confirmé",
        needsAck: "Confirmation requise", whatChanged: "Ce qui change", whyItMatters: "Pourquoi c’est important",
        whatToDo: "Que faire maintenant", failed: "La boîte de réception n’a pas pu être chargée." },
  es: { empty: "No hay mensajes.", back: "Volver a la lista", acknowledge: "Confirmo", acknowledged: "Confirmado",
        needsAck: "Requiere confirmación", whatChanged: "Qué ha cambiado", whyItMatters: "Por qué importa",
        whatToDo: "Qué hacer ahora", failed: "No se pudo cargar la bandeja de entrada." },
};

function texts(element) {
  const tag = element.closest("[lang]")?.lang || navigator.language || "en";
  return TEXTS[tag.slice(0, 2).toLowerCase()] || TEXTS.en;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

/** One field of a message's attestation form, as inputs named by its key. */
function attestationField(f) {
  const label = f.label + (f.required === false ? " (optional)" : "");
  if (f.type === "choice" || f.type === "choices") {
    const kind = f.multiple ? "checkbox" : "radio";
    return el("fieldset", {}, el("legend", {}, label), ...f.options.map((o) =>
      el("label", {}, el("input", { type: kind, name: f.key, value: o }), ` ${o}`)));
  }
  const props = { name: f.key, id: `tidings-${f.key}` };
  if (f.required !== false) props.required = "";
  let input;
  if (f.type === "number") {
    input = el("input", { ...props, type: "number", step: "1" });
    if (f.min != null) input.setAttribute("min", f.min);
    if (f.max != null) input.setAttribute("max", f.max);
  } else if (f.type === "text" || f.type === "serials") {
    input = el("textarea", { ...props, rows: "3" });
  } else {
    input = el("input", { ...props, type: "text" });
  }
  return el("p", {}, el("label", { for: props.id }, label), el("br"), input);
}

class TidingsInbox extends HTMLElement {
  static observedAttributes = ["src", "token"];

  constructor() {
    super();
    this.attachShadow({ mode: "open" });
  }

  connectedCallback() { this.showList(); }
  // Called for each attribute as the element is upgraded too: reload only on a change.
  attributeChangedCallback(name, before, after) {
    if (this.isConnected && before !== null && before !== after) this.showList();
  }

  async call(path, body) {
    const base = (this.getAttribute("src") || "").replace(/\/+$/, "");
    const response = await fetch(`${base}/widget/v1${path}`, {
      method: body ? "POST" : "GET",
      credentials: "omit",
      headers: { Authorization: `Bearer ${this.getAttribute("token") || ""}`, "Content-Type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!response.ok) {
      // A problem document says what to fix, field by field.
      const problem = await response.json().catch(() => ({}));
      const fields = (problem.errors || []).map((e) => e.message).join("; ");
      throw new Error(fields || problem.detail || `${response.status}`);
    }
    return response.json();
  }

  show(...nodes) {
    this.shadowRoot.replaceChildren(el("style", {}, STYLE), ...nodes);
  }

  async showList() {
    const TEXT = texts(this);
    try {
      const page = await this.call("/inbox?limit=20");
      const items = page.items.map((m) => el("li", { class: `${m.importance}${m.read_at ? "" : " unread"}` },
        el("button", { class: "item", type: "button", onclick: () => this.showMessage(m.message_id) },
          el("span", { class: "title" }, m.title),
          el("span", { class: "summary" }, m.summary),
          m.needs_acknowledgment ? el("span", { class: "badge" }, TEXT.needsAck) : null)));
      this.show(items.length ? el("ul", { role: "list" }, ...items) : el("p", {}, TEXT.empty));
      this.dispatchEvent(new CustomEvent("tidings:loaded", { detail: { count: items.length } }));
    } catch (e) {
      this.show(el("p", { class: "error", role: "alert" }, TEXT.failed));
    }
  }

  async showMessage(id) {
    const TEXT = texts(this);
    try {
      const m = await this.call(`/inbox/${encodeURIComponent(id)}`);
      const section = (title, html) => {
        const body = el("div");
        body.innerHTML = html; // sanitized by Tidings (an allow-list), never raw input
        return el("section", {}, el("h4", {}, title), body);
      };
      const r = m.rendered;
      const parts = [
        el("button", { class: "link", type: "button", onclick: () => this.showList() }, `← ${TEXT.back}`),
        el("h3", {}, r.title),
        el("p", { class: "summary" }, r.summary),
        section(TEXT.whatChanged, r.what_changed),
        section(TEXT.whyItMatters, r.why_it_matters),
        section(TEXT.whatToDo, r.what_to_do),
      ];
      if (r.call_to_action && /^https?:\/\//.test(r.call_to_action.url)) {
        parts.push(el("p", {}, el("a", { href: r.call_to_action.url, target: "_blank", rel: "noopener noreferrer" }, r.call_to_action.label)));
      }
      if (m.acknowledgment) {
        parts.push(el("p", { class: "statement" }, m.acknowledgment.statement));
        if (m.needs_acknowledgment) {
          // The attestation form, when the message asks what the member did.
          const fields = (m.acknowledgment.attestation && m.acknowledgment.attestation.fields) || [];
          const form = el("form", { class: "attestation" }, ...fields.map((f) => attestationField(f)));
          const failed = el("p", { class: "error", role: "alert" });
          form.append(failed, el("button", { class: "primary", type: "submit" }, TEXT.acknowledge));
          form.addEventListener("submit", async (event) => {
            event.preventDefault();
            const answers = {};
            for (const [name, value] of new FormData(form)) {
              if (value === "") continue;
              answers[name] = name in answers ? [].concat(answers[name], value) : value;
            }
            try {
              await this.call(`/inbox/${encodeURIComponent(id)}/acknowledge`, { content_hash: r.content_hash, answers });
            } catch (e) {
              failed.textContent = e.message || TEXT.failed;
              return;
            }
            this.dispatchEvent(new CustomEvent("tidings:acknowledged", { detail: { message_id: id } }));
            this.showMessage(id);
          });
          parts.push(form);
        } else {
          parts.push(el("p", {}, `✓ ${TEXT.acknowledged}`));
        }
      }
      this.show(el("article", { class: "message", lang: r.locale }, ...parts));
    } catch (e) {
      this.show(el("p", { class: "error", role: "alert" }, TEXT.failed));
    }
  }
}

customElements.define("tidings-inbox", TidingsInbox);
