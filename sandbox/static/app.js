// The sandbox page: shows the Slack stand-in's channel as Slack would and sends clicks, commands and simulated
// events to the sandbox server (which signs them and forwards them to the bot).
//
// Everything shown comes from CloudTrail records, i.e. from whoever made the API call. The DOM is therefore
// built from elements and text nodes only: no innerHTML, no HTML strings, anywhere in this file.
"use strict";

const POLL_MS = 500;
const EMOJI = {
  white_check_mark: "\u2705",
  information_source: "\u2139\ufe0f",
  x: "\u274c",
  no_entry: "\u26d4",
  hourglass_flowing_sand: "\u23f3",
  hourglass: "\u231b",
  gear: "\u2699\ufe0f",
  eyes: "\u{1f440}",
  mag: "\u{1f50d}",
  warning: "\u26a0\ufe0f",
  newspaper: "\u{1f4f0}",
  mute: "\u{1f507}",
  loud_sound: "\u{1f50a}",
  red_circle: "\u{1f534}",
  large_orange_circle: "\u{1f7e0}",
  large_yellow_circle: "\u{1f7e1}",
  large_blue_circle: "\u{1f535}",
  white_circle: "\u26aa",
  rotating_light: "\u{1f6a8}",
  lock: "\u{1f512}",
  key: "\u{1f511}",
};
const ENTITIES = { "&lt;": "<", "&gt;": ">", "&amp;": "&" };
// Slack mrkdwn: control sequences <…>, code blocks, inline code, *bold*, _italic_, ~strike~, :emoji:, newlines.
const TOKEN = /<([^<>\n]*)>|```([\s\S]+?)```|`([^`\n]+)`|\*([^*\n]+)\*|_([^_\n]+)_|~([^~\n]+)~|:([a-z0-9_+-]+):|\n/g;
const SAFE_URL = /^(https?:|mailto:)/i;
// A Slack message link (chat.getPermalink's): jumps to that message on this page instead of leaving it.
const MESSAGE_LINK = /^https:\/\/[a-z0-9-]+\.slack\.com\/archives\/[A-Z0-9]+\/p([0-9]{10})([0-9]{6})(?:[?#].*)?$/;

const app = {
  me: localStorage.getItem("sandbox-user") || "U0ADMIN1",
  users: {},
  version: -1,
  renderedFor: "",
  busy: false,
  accountBusy: false,
  accountAgain: false,
  scenariosShown: false,
  openThreads: new Set(), // parent ts of the threads the user expanded; collapsed ("3 replies") otherwise
  last: null, // the last state shown, to redraw when a thread is opened or closed
  tab: "channel", // or "home": the app's Home tab
  channel: "", // the channel shown ("" for the default one); IAMBOT_ROUTES may send alerts to the others
  renderedChannel: "",
  channelTabs: "", // the channels the tabs were drawn for
  homeKey: null, // what the Home tab and the modal show now (id and view), to redraw only when it changes
  homeAnswer: null, // the bot's answer to app_home_opened, once it came
  modalKey: "",
};

// -- DOM helpers ---------------------------------------------------------------------------------------------

function h(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "onclick") node.addEventListener("click", value);
    else if (["type", "title", "disabled", "hidden", "download"].includes(key)) node[key] = value;
    else if (key === "href") node.href = SAFE_URL.test(value) || /^\/(?!\/)/.test(value) ? value : "#";
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function decode(text) {
  return text.replace(/&(lt|gt|amp);/g, (m) => ENTITIES[m]);
}

function emojify(text) {
  return text.replace(/:([a-z0-9_+-]+):/g, (m, name) => EMOJI[name] || m);
}

// -- mrkdwn ---------------------------------------------------------------------------------------------------

function wordChar(ch) {
  return ch !== undefined && /[A-Za-z0-9]/.test(ch);
}

// Which token a regex match is, or null when Slack would not format it (e.g. snake_case, unknown :emoji:).
function tokenKind(m, text) {
  if (m[1] !== undefined) return "control";
  if (m[2] !== undefined) return "pre";
  if (m[3] !== undefined) return "code";
  if (m[7] !== undefined) return EMOJI[m[7]] ? "emoji" : null;
  if (m[0] === "\n") return "br";
  const inner = m[4] ?? m[5] ?? m[6];
  const before = text[m.index - 1];
  const after = text[m.index + m[0].length];
  if (wordChar(before) || wordChar(after) || /^\s|\s$/.test(inner)) return null;
  return m[4] !== undefined ? "b" : m[5] !== undefined ? "i" : "s";
}

function userName(id) {
  return app.users[id] ? app.users[id].name : id;
}

function channelName(id) {
  const known = app.last && app.last.channels.find((c) => c.id === id);
  return known ? known.name : id;
}

function control(inner) {
  const bar = inner.indexOf("|");
  const target = bar >= 0 ? inner.slice(0, bar) : inner;
  const label = bar >= 0 ? decode(inner.slice(bar + 1)) : "";
  if (target.startsWith("@")) return h("span", { class: "mention" }, "@" + (label || userName(target.slice(1))));
  if (target.startsWith("#")) return h("span", { class: "mention" }, "#" + (label || channelName(target.slice(1))));
  if (target.startsWith("!")) {
    const special = target.slice(1).split("^")[0];
    return h("span", { class: "mention" }, label || (["here", "channel", "everyone"].includes(special) ? "@" + special : special));
  }
  const url = decode(target);
  if (!SAFE_URL.test(url)) return document.createTextNode(label || url);
  const message = MESSAGE_LINK.exec(url);
  if (message) return h("a", { href: "#", class: "message-link", dataset: { ts: `${message[1]}.${message[2]}` }, onclick: jumpToMessage }, label || url);
  return h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, label || url);
}

function jumpToMessage(event) {
  event.preventDefault();
  const ts = event.currentTarget.dataset.ts;
  const parent = app.last && app.last.timeline.find((item) => item.replies.some((r) => r.ts === ts));
  if (parent && !document.querySelector(`#messages .message[data-ts="${ts}"]`)) {
    app.openThreads.add(parent.ts); // the message is a reply in a collapsed thread: open it first
    renderMessages(app.last);
  }
  const target = document.querySelector(`#messages .message[data-ts="${ts}"]`);
  if (!target) {
    say("That message is no longer in this channel.", true);
    return;
  }
  target.scrollIntoView({ block: "center" });
  target.classList.add("jumped");
  setTimeout(() => target.classList.remove("jumped"), 2000);
}

function appendInline(parent, text) {
  const re = new RegExp(TOKEN.source, "g");
  let last = 0;
  let m;
  while ((m = re.exec(text)) !== null) {
    const kind = tokenKind(m, text);
    if (!kind) {
      re.lastIndex = m.index + 1;
      continue;
    }
    if (m.index > last) parent.append(decode(text.slice(last, m.index)));
    if (kind === "control") parent.append(control(m[1]));
    else if (kind === "pre") parent.append(h("pre", { class: "code-block" }, decode(m[2])));
    else if (kind === "code") parent.append(h("code", {}, decode(m[3])));
    else if (kind === "emoji") parent.append(h("span", { class: "emoji", title: m[0] }, EMOJI[m[7]]));
    else if (kind === "br") parent.append(h("br"));
    else {
      const node = h(kind === "b" ? "strong" : kind === "i" ? "em" : "s");
      appendInline(node, m[4] ?? m[5] ?? m[6]);
      parent.append(node);
    }
    last = re.lastIndex;
  }
  if (last < text.length) parent.append(decode(text.slice(last)));
}

function mrkdwn(text) {
  const node = h("span", { class: "mrkdwn" });
  appendInline(node, String(text ?? ""));
  return node;
}

function textObject(obj) {
  if (!obj) return h("span");
  if (obj.type === "plain_text") return h("span", { class: "plain" }, obj.emoji === false ? obj.text : emojify(String(obj.text)));
  return mrkdwn(obj.text);
}

// -- Block Kit ------------------------------------------------------------------------------------------------

// A context says what the interactive parts of blocks do where they are shown: in a channel message a click is
// block_actions on that message; in the Home tab or a modal it is block_actions on the view (see viewContext).
function messageContext(message) {
  const channel = app.last ? app.last.channel.id : "";
  return {
    onButton: (node, element, blockId) => clickButton(node, element, blockId, message, undefined, channel),
    onPick: (node, element, blockId, picked) => clickButton(node, element, blockId, message, picked, channel),
  };
}

function button(element, blockId, ctx) {
  const style = ["primary", "danger"].includes(element.style) ? " " + element.style : "";
  return h(
    "button",
    {
      type: "button",
      class: "btn" + style,
      dataset: { actionId: element.action_id || "", value: element.value || "", blockId },
      onclick: (event) => ctx.onButton(event.currentTarget, element, blockId),
    },
    textObject(element.text),
  );
}

function plain(obj) {
  return obj && obj.text !== undefined ? String(obj.text) : "";
}

function optionNodes(options, selected) {
  return options.map((o) => {
    const node = h("option", { value: o.value }, plain(o.text));
    node.selected = selected.includes(o.value);
    return node;
  });
}

// A select, text field, date, radio group… of Block Kit, marked .input-el with its block and action id so its value
// can be read (readValue); with `dispatch`, a change is sent at once (as in an actions block), else on submit.
function inputElement(element, blockId, ctx, dispatch) {
  const data = { blockId, actionId: element.action_id || "", kind: element.type || "" };
  const initial = [element.initial_option, ...(element.initial_options || [])].filter(Boolean).map((o) => o.value);
  let node;
  switch (element.type) {
    case "plain_text_input":
    case "number_input":
    case "email_text_input":
    case "url_text_input":
    case "datepicker":
    case "timepicker": {
      const kinds = { number_input: "number", email_text_input: "email", url_text_input: "url", datepicker: "date", timepicker: "time" };
      node = element.multiline ? h("textarea", { rows: "4" }) : h("input", { type: kinds[element.type] || "text" });
      node.value = element.initial_value || element.initial_date || element.initial_time || "";
      if (element.placeholder) node.placeholder = plain(element.placeholder);
      if (element.max_length) node.maxLength = element.max_length;
      break;
    }
    case "static_select":
    case "multi_static_select":
    case "users_select":
    case "multi_users_select":
    case "conversations_select":
    case "channels_select": {
      const multi = element.type.startsWith("multi_");
      node = h("select", {});
      node.multiple = multi;
      if (!multi) node.append(h("option", { value: "" }, plain(element.placeholder) || "Choose…"));
      if (element.type.includes("users")) {
        const picked = [element.initial_user, ...(element.initial_users || [])].filter(Boolean);
        node.append(...optionNodes(Object.values(app.users).map((u) => ({ value: u.id, text: { text: u.name } })), picked));
      } else if (element.type.includes("select") && !element.type.includes("static")) {
        const channel = app.last ? app.last.channel : { id: "", name: "" };
        node.append(...optionNodes([{ value: channel.id, text: { text: "#" + channel.name } }], [element.initial_conversation || element.initial_channel]));
      } else {
        node.append(...optionNodes(element.options || [], initial));
        for (const group of element.option_groups || []) node.append(h("optgroup", { label: plain(group.label) }, optionNodes(group.options || [], initial)));
      }
      break;
    }
    case "radio_buttons":
    case "checkboxes": {
      const type = element.type === "radio_buttons" ? "radio" : "checkbox";
      const name = `${blockId}.${element.action_id}`;
      node = h("div", { class: "choices" }, (element.options || []).map((o) => {
        const box = h("input", { type, name, value: o.value });
        box.checked = initial.includes(o.value);
        return h("label", { class: "choice" }, box, " ", textObject(o.text));
      }));
      break;
    }
    default:
      return h("span", { class: "unknown", dataset: { elementType: String(element.type) } }, "(this part cannot be shown here)");
  }
  node.classList.add("input-el");
  Object.assign(node.dataset, data);
  if (dispatch && ctx.onPick) node.addEventListener("change", () => ctx.onPick(node, element, blockId, readValue(node)));
  return node;
}

function readValue(el) {
  if (el.dataset.kind === "radio_buttons") {
    const checked = el.querySelector("input:checked");
    return checked ? checked.value : "";
  }
  if (el.dataset.kind === "checkboxes") return [...el.querySelectorAll("input:checked")].map((i) => i.value);
  if (el.multiple) return [...el.selectedOptions].map((o) => o.value);
  return el.value;
}

// What the inputs under `root` hold, as the sandbox server takes it: {block_id: {action_id: value}}.
function collectValues(root) {
  const values = {};
  for (const el of root.querySelectorAll(".input-el")) (values[el.dataset.blockId] ||= {})[el.dataset.actionId] = readValue(el);
  return values;
}

function interactive(element, blockId, ctx) {
  if (element.type === "button") return button(element, blockId, ctx);
  return inputElement(element, blockId, ctx, true);
}

function renderBlock(block, index, ctx) {
  const blockId = block.block_id || `b${index}`;
  switch (block.type) {
    case "section": {
      const node = h("div", { class: "block section" });
      const main = h("div", { class: "section-main" });
      if (block.text) main.append(h("div", { class: "section-text" }, textObject(block.text)));
      if (block.fields) main.append(h("div", { class: "fields" }, block.fields.map((f) => h("div", { class: "field" }, textObject(f)))));
      node.append(main);
      if (block.accessory && block.accessory.type !== "image") node.append(h("div", { class: "accessory" }, interactive(block.accessory, blockId, ctx)));
      return node;
    }
    case "context":
      return h("div", { class: "block context" }, (block.elements || []).map((e) => (e.type === "image" ? h("span", { class: "img-alt" }, `[${e.alt_text || "image"}]`) : h("span", { class: "context-el" }, textObject(e)))));
    case "actions":
      return h("div", { class: "block actions" }, (block.elements || []).map((e) => interactive(e, blockId, ctx)));
    case "input":
      return h(
        "div",
        { class: "block input", dataset: { blockId } },
        h("div", { class: "input-label" }, textObject(block.label), block.optional ? h("span", { class: "optional" }, " (optional)") : null),
        inputElement(block.element || {}, blockId, ctx, Boolean(block.dispatch_action)), // dispatch_action: sent on change
        block.hint ? h("div", { class: "input-hint" }, textObject(block.hint)) : null,
        h("div", { class: "input-error", dataset: { blockId }, hidden: true }),
      );
    case "image":
      return h("div", { class: "block context" }, h("span", { class: "img-alt" }, `[${block.alt_text || "image"}]`));
    case "header":
      return h("div", { class: "block header" }, textObject(block.text));
    case "divider":
      return h("hr", { class: "block divider" });
    default:
      return h("div", { class: "block unknown", dataset: { blockType: String(block.type) } }, "(this part of the message cannot be shown here)");
  }
}

function renderContent(item) {
  if (item.kind === "files") {
    return h(
      "div",
      { class: "file-share" },
      item.text ? h("div", { class: "section-text" }, mrkdwn(item.text)) : null,
      h("div", { class: "files" }, item.files.map((f) => h("a", { class: "file", href: `/files/${encodeURIComponent(f.id)}`, download: f.name, dataset: { fileId: f.id } }, h("span", { class: "file-icon" }, "\u{1f4c4}"), h("span", { class: "file-name" }, f.name), h("span", { class: "file-size" }, `${f.size} bytes`)))),
    );
  }
  if (item.blocks && item.blocks.length) return h("div", { class: "blocks" }, item.blocks.map((b, i) => renderBlock(b, i, messageContext(item))));
  return h("div", { class: "section-text" }, mrkdwn(item.text));
}

function clock(ts) {
  const when = new Date(parseFloat(ts) * 1000);
  return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function renderItem(item, inThread) {
  const ephemeral = item.kind === "ephemeral";
  const node = h(
    "div",
    { class: `message ${item.kind}${item.broadcast ? " broadcast" : ""}`, dataset: { ts: item.ts, kind: item.kind } },
    h("div", { class: "avatar", "aria-hidden": "true" }, "IW"),
    h(
      "div",
      { class: "message-body" },
      h(
        "div",
        { class: "meta" },
        h("span", { class: "author" }, "IAM Warden"),
        h("span", { class: "app-badge" }, "APP"),
        h("span", { class: "time" }, clock(item.ts)),
        item.edits ? h("span", { class: "edited", title: `updated ${item.edits} time(s)` }, "(edited)") : null,
      ),
      item.broadcast ? h("div", { class: "broadcast-note" }, "replied to a thread \u00b7 also sent to the channel") : null,
      ephemeral ? h("div", { class: "ephemeral-note" }, "\u{1f441} Only visible to you") : null,
      h("div", { class: "content" }, renderContent(item)),
      !inThread && item.replies && item.replies.length ? renderThread(item) : null,
    ),
  );
  return node;
}

// A thread as Slack shows it in the channel: collapsed to "3 replies" until clicked, then its replies inline.
function renderThread(item) {
  const open = app.openThreads.has(item.ts);
  const count = item.replies.length;
  const last = item.replies[count - 1];
  const toggle = h(
    "button",
    { type: "button", class: "thread-toggle", "aria-expanded": String(open), dataset: { ts: item.ts }, onclick: () => toggleThread(item.ts) },
    h("span", { class: "reply-count" }, `${count} ${count === 1 ? "reply" : "replies"}`),
    h("span", { class: "reply-last" }, open ? "Hide replies" : `Last reply ${clock(last.ts)}`),
  );
  return h("div", { class: "thread" + (open ? " open" : "") }, toggle, open ? h("div", { class: "thread-replies" }, item.replies.map((r) => renderItem(r, true))) : null);
}

function toggleThread(ts) {
  if (app.openThreads.has(ts)) app.openThreads.delete(ts);
  else app.openThreads.add(ts);
  if (app.last) renderMessages(app.last);
}

function renderMessages(data) {
  const box = document.getElementById("messages");
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const items = data.timeline.map((item) => renderItem(item, false));
  if (!items.length) items.push(h("p", { class: "empty" }, "No messages yet. Press one of the buttons on the right, or send /iam audit."));
  box.replaceChildren(...items);
  const channel = data.channel.id === data.channels[0].id ? "" : data.channel.id;
  if (nearBottom || app.renderedFor !== data.me || app.renderedChannel !== channel) box.scrollTop = box.scrollHeight;
}

// -- the app's Home tab and modals (views the bot published or opened) ---------------------------------------

function viewContext(viewId, root) {
  return {
    onButton: (node, element, blockId) => viewAction(node, viewId, element, blockId, undefined, root),
    onPick: (node, element, blockId, picked) => viewAction(node, viewId, element, blockId, picked, root),
  };
}

async function viewAction(node, viewId, element, blockId, picked, root) {
  if (element.confirm && !(await askConfirm(element.confirm))) {
    say("Cancelled: nothing was done.");
    return;
  }
  node.disabled = true;
  const what = picked === undefined ? `Clicked \u201c${plain(element.text) || element.action_id}\u201d` : "Made a choice";
  try {
    const reply = await api("/api/view_action", { user: app.me, view_id: viewId, action_id: element.action_id, block_id: blockId, picked, values: collectValues(root) });
    say(answered(`${what} as ${userName(app.me)}`, reply.status));
  } catch (err) {
    say(`That did not work: ${err.message}`, true);
  } finally {
    node.disabled = false;
    refresh(true);
  }
}

function showTab(which, channel) {
  app.tab = which;
  if (which === "channel" && channel !== undefined) app.channel = channel;
  for (const name of ["channel", "home"]) document.getElementById(`${name}-pane`).hidden = name !== which;
  for (const tab of document.querySelectorAll(".channel-head .tab")) {
    const selected = tab.id === "tab-home" ? which === "home" : which === "channel" && (tab.dataset.channel || "") === app.channel;
    tab.setAttribute("aria-selected", String(selected));
  }
  if (which === "home") openHome();
  else refresh(true);
}

// One tab per channel the page shows: the default channel's (#tab-channel) and one for each routed channel.
function renderChannels(data) {
  const key = JSON.stringify(data.channels);
  if (key === app.channelTabs) return;
  app.channelTabs = key;
  document.getElementById("channel-name").textContent = data.channels[0].name;
  for (const old of document.querySelectorAll(".channel-tab")) old.remove();
  let after = document.getElementById("tab-channel");
  for (const channel of data.channels.slice(1)) {
    const tab = h("button", { type: "button", class: "tab channel-tab", role: "tab", id: `tab-channel-${channel.id}`, "aria-selected": "false", dataset: { channel: channel.id }, onclick: () => showTab("channel", channel.id) }, h("span", { class: "hash" }, "#"), channel.name);
    after.after(tab);
    after = tab;
  }
}

// Opening the tab is what tells the bot (app_home_opened), every time, as in Slack.
async function openHome() {
  app.homeAnswer = null;
  app.homeKey = null;
  renderHome(app.last);
  try {
    const reply = await api("/api/home", { user: app.me });
    app.homeAnswer = reply.status;
  } catch (err) {
    app.homeAnswer = 0;
    say(`Could not open the Home tab: ${err.message}`, true);
  }
  app.homeKey = null;
  renderHome(app.last);
  refresh(true);
}

function renderHome(data) {
  const box = document.getElementById("home");
  const home = data && data.home;
  const key = home ? home.id + JSON.stringify(home.view) : `none:${app.homeAnswer}`;
  if (key === app.homeKey) return;
  app.homeKey = key;
  box.dataset.viewId = home ? home.id : "";
  if (!home) {
    const waiting = app.homeAnswer === null ? "Opening IAM Warden's Home tab\u2026" : "IAM Warden has not put anything on its Home tab yet.";
    box.replaceChildren(h("p", { class: "empty" }, waiting));
    return;
  }
  box.replaceChildren(...(home.view.blocks || []).map((b, i) => renderBlock(b, i, viewContext(home.id, box))));
}

function renderModal(data) {
  const backdrop = document.getElementById("view-modal");
  const modal = data.modal;
  const key = modal ? modal.id + JSON.stringify(modal.view) : "";
  if (key === app.modalKey) return; // unchanged: keep what the user typed
  app.modalKey = key;
  backdrop.hidden = !modal;
  if (!modal) return;
  const view = modal.view;
  const body = document.getElementById("view-body");
  backdrop.dataset.viewId = modal.id;
  document.getElementById("view-title").replaceChildren(textObject(view.title || { type: "plain_text", text: "" }));
  body.replaceChildren(...(view.blocks || []).map((b, i) => renderBlock(b, i, viewContext(modal.id, body))));
  const submit = document.getElementById("view-submit");
  submit.hidden = !view.submit;
  submit.replaceChildren(textObject(view.submit || { type: "plain_text", text: "Submit" }));
  document.getElementById("view-cancel").replaceChildren(textObject(view.close || { type: "plain_text", text: "Cancel" }));
  const first = body.querySelector("input, textarea, select");
  if (first) first.focus();
}

function showErrors(errors) {
  for (const node of document.querySelectorAll("#view-body .input-error")) {
    const message = errors[node.dataset.blockId];
    node.hidden = !message;
    node.textContent = message || "";
  }
}

async function submitModal() {
  const viewId = document.getElementById("view-modal").dataset.viewId;
  const button = document.getElementById("view-submit");
  showErrors({});
  button.disabled = true;
  try {
    const reply = await api("/api/view_submit", { user: app.me, view_id: viewId, values: collectValues(document.getElementById("view-body")) });
    if (reply.errors && Object.keys(reply.errors).length) {
      showErrors(reply.errors);
      say("IAM Warden asks you to correct the marked fields.", true);
    } else {
      say(answered(`Submitted as ${userName(app.me)}`, reply.status), reply.status !== 200);
    }
  } catch (err) {
    say(`Submitting failed: ${err.message}`, true);
  } finally {
    button.disabled = false;
    refresh(true);
  }
}

async function closeModal() {
  const viewId = document.getElementById("view-modal").dataset.viewId;
  try {
    await api("/api/view_close", { user: app.me, view_id: viewId, values: collectValues(document.getElementById("view-body")) });
    say("Closed without submitting.");
  } catch (err) {
    say(`Closing failed: ${err.message}`, true);
  }
  refresh(true);
}

// -- confirm dialog --------------------------------------------------------------------------------------------

function askConfirm(confirm) {
  const modal = document.getElementById("confirm-modal");
  document.getElementById("confirm-title").replaceChildren(textObject(confirm.title));
  document.getElementById("confirm-text").replaceChildren(textObject(confirm.text));
  const ok = document.getElementById("confirm-ok");
  const cancel = document.getElementById("confirm-cancel");
  ok.replaceChildren(textObject(confirm.confirm || { type: "plain_text", text: "Yes" }));
  cancel.replaceChildren(textObject(confirm.deny || { type: "plain_text", text: "Cancel" }));
  ok.className = "btn " + (confirm.style === "primary" ? "primary" : "danger");
  modal.hidden = false;
  ok.focus();
  return new Promise((resolve) => {
    const done = (answer) => {
      modal.hidden = true;
      ok.onclick = cancel.onclick = document.onkeydown = null;
      resolve(answer);
    };
    ok.onclick = () => done(true);
    cancel.onclick = () => done(false);
    document.onkeydown = (event) => event.key === "Escape" && done(false);
  });
}

// -- talking to the sandbox server ------------------------------------------------------------------------------

async function api(path, body) {
  const options = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const reply = await fetch(path, options);
  const data = await reply.json().catch(() => ({}));
  if (!reply.ok) throw new Error(data.error || `HTTP ${reply.status}`);
  return data;
}

// A status line for something sent to IAM Warden: said plainly, with the error code only when it refused.
function answered(what, status) {
  return status >= 200 && status < 300 ? `${what}.` : `${what}, but IAM Warden did not take it (error ${status}).`;
}

function say(text, error) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = "status" + (error ? " error" : "");
}

// A click on a message's button, or (with `picked`) a choice in one of its selects.
async function clickButton(node, element, blockId, message, picked, channel) {
  if (element.confirm && !(await askConfirm(element.confirm))) {
    say("Cancelled: nothing was done.");
    return;
  }
  node.disabled = true;
  const body = { user: app.me, channel, ts: message.ts, action_id: element.action_id, block_id: blockId, value: element.value || "" };
  if (picked !== undefined) body.picked = picked;
  try {
    const reply = await api("/api/click", body);
    const what = picked === undefined ? `Clicked \u201c${plain(element.text) || element.action_id}\u201d` : "Made a choice";
    say(answered(`${what} as ${userName(app.me)}`, reply.status));
  } catch (err) {
    say(`Click failed: ${err.message}`, true);
  } finally {
    node.disabled = false;
    refresh(true);
  }
}

async function sendCommand(event) {
  event.preventDefault();
  const raw = document.getElementById("command-input").value.trim();
  const match = /^(\/\S+)\s*([\s\S]*)$/.exec(raw);
  if (!match) {
    say("Type a slash command, e.g. /iam audit", true);
    return;
  }
  try {
    const reply = await api("/api/command", { user: app.me, command: match[1], text: match[2], channel: app.channel });
    say(answered(`Sent ${raw} as ${userName(app.me)}`, reply.status));
  } catch (err) {
    say(`Command failed: ${err.message}`, true);
  }
  refresh(true);
}

async function postDigest(event) {
  const node = event.currentTarget;
  node.disabled = true;
  try {
    const reply = await api("/api/command", { user: app.me, command: "/iam", text: "digest", channel: app.channel });
    say(answered(`Asked for the digest as ${userName(app.me)}`, reply.status));
  } catch (err) {
    say(`Digest failed: ${err.message}`, true);
  } finally {
    node.disabled = false;
    refresh(true);
  }
}

async function simulate(id, node) {
  node.disabled = true;
  const userAgent = document.getElementById("user-agent").value;
  try {
    const reply = await api("/api/simulate", { scenario: id, user_agent: userAgent });
    const about = reply.users.length ? ` about user ${reply.users.join(", ")}` : "";
    document.getElementById("simulate").dataset.lastUsers = reply.users.join(",");
    say(`Sent to IAM Warden: ${reply.sent.join(", ")}${about}. Its alerts appear in a moment.`);
  } catch (err) {
    say(`Simulation failed: ${err.message}`, true);
  } finally {
    node.disabled = false;
    refreshAccount();
  }
}

// -- AWS account panel -------------------------------------------------------------------------------------

function keyCell(key) {
  return h("div", { class: "key", dataset: { keyId: key.id } }, h("code", {}, key.id), " ", h("span", { class: `key-status ${key.status.toLowerCase()}` }, key.status), h("span", { class: "key-dates" }, ` created ${key.created || "?"} \u00b7 last used ${key.last_used || "never"}`));
}

function userRow(user) {
  const policies = [...user.attached, ...user.inline.map((p) => `${p} (inline)`), ...user.groups.map((g) => `group ${g}`)];
  return h(
    "tr",
    { dataset: { user: user.name } },
    h("td", { class: "user-name" }, user.name, h("div", { class: "muted" }, `since ${user.created || "?"}`)),
    h("td", { class: "policies" }, policies.length ? policies.map((p) => h("div", { class: "policy" }, p)) : h("span", { class: "muted" }, "none")),
    h("td", { class: "console" }, user.console ? "yes" : h("span", { class: "muted" }, "no")),
    h("td", { class: "mfa" }, user.mfa ? "yes" : user.console ? h("span", { class: "warn" }, "no") : h("span", { class: "muted" }, "no")),
    h("td", { class: "keys" }, user.keys.length ? user.keys.map(keyCell) : h("span", { class: "muted" }, "none")),
  );
}

function passwordPolicy(policy) {
  if (!policy) return "none set";
  const wants = [["RequireSymbols", "symbols"], ["RequireNumbers", "numbers"], ["RequireUppercaseCharacters", "upper case"], ["RequireLowercaseCharacters", "lower case"]];
  const needs = wants.filter(([key]) => policy[key]).map(([, label]) => label);
  return `min ${policy.MinimumPasswordLength} chars; requires ${needs.join(", ") || "nothing"}; ` + (policy.MaxPasswordAge ? `expires after ${policy.MaxPasswordAge} days` : "never expires") + (policy.PasswordReusePrevention ? `; remembers ${policy.PasswordReusePrevention}` : "; no reuse rule");
}

function renderAccount(account) {
  document.getElementById("account-id").textContent = account.account;
  const body = document.getElementById("account-body");
  body.replaceChildren(
    h("table", { class: "users" }, h("thead", {}, h("tr", {}, h("th", {}, "User"), h("th", {}, "Policies"), h("th", {}, "Console"), h("th", {}, "MFA"), h("th", {}, "Access keys"))), h("tbody", {}, account.users.map(userRow))),
    h("h3", {}, "Roles"),
    h("ul", { class: "roles" }, account.roles.map((r) => h("li", { dataset: { role: r.name } }, h("strong", {}, r.name), ` \u2014 ${[...r.attached, ...r.inline.map((p) => `${p} (inline)`)].join(", ") || "no policies"}; created ${r.created || "?"}, last used ${r.last_used || "never"}`))),
    h("h3", {}, "Account settings"),
    h("ul", { class: "settings" }, h("li", {}, "Password policy: ", passwordPolicy(account.password_policy)), h("li", { id: "trail-status" }, `Trail ${account.trail.name}: `, account.trail.logging ? "logging" : h("span", { class: "warn" }, "NOT logging"))),
    h("h3", {}, "Problems this practice account has on purpose"),
    h("ul", { class: "problems" }, account.problems.map((p) => h("li", {}, p))),
    h("p", { class: "note", id: "root-note" }, h("strong", {}, "Root user: "), account.root_note),
  );
}

async function refreshAccount() {
  if (app.accountBusy) {
    app.accountAgain = true; // a change may have landed after the read in flight began
    return;
  }
  app.accountBusy = true;
  try {
    renderAccount(await api("/api/account"));
  } catch (err) {
    say(`Could not read the AWS account: ${err.message}`, true);
  } finally {
    app.accountBusy = false;
    if (app.accountAgain) {
      app.accountAgain = false;
      refreshAccount();
    }
  }
}

// -- state polling ------------------------------------------------------------------------------------------

function renderUsers(data) {
  const select = document.getElementById("user-select");
  app.users = Object.fromEntries(data.users.map((u) => [u.id, u]));
  if (select.options.length === data.users.length) return;
  select.replaceChildren(...data.users.map((u) => h("option", { value: u.id }, `${u.name} (${u.role === "admin" ? "admin" : "no admin rights"})`)));
  select.value = app.me;
}

function renderScenarios(data) {
  if (app.scenariosShown) return;
  app.scenariosShown = true;
  const box = document.getElementById("scenarios");
  box.replaceChildren(...data.scenarios.map((s) => h("button", { type: "button", class: "btn scenario", title: s.description, dataset: { scenario: s.id }, onclick: (e) => simulate(s.id, e.currentTarget) }, s.label)));
}

async function refresh(force) {
  if (app.busy && !force) return;
  app.busy = true;
  try {
    const data = await api(`/api/state?user=${encodeURIComponent(app.me)}&channel=${encodeURIComponent(app.channel)}`);
    document.getElementById("live").classList.remove("down");
    renderUsers(data);
    renderScenarios(data);
    renderChannels(data);
    const shown = data.channel.id === data.channels[0].id ? "" : data.channel.id;
    if (data.me !== app.me || shown !== app.channel) return; // a reply for another user or channel than chosen now
    if (data.me === app.renderedFor && shown === app.renderedChannel && data.version < app.version) return; // stale
    if (data.version !== app.version || data.me !== app.renderedFor || shown !== app.renderedChannel) {
      const changed = data.version !== app.version;
      app.last = data;
      renderMessages(data);
      renderHome(data);
      renderModal(data);
      app.version = data.version;
      app.renderedFor = data.me;
      app.renderedChannel = shown;
      document.body.dataset.version = String(data.version);
      if (changed) refreshAccount();
    }
  } catch (err) {
    document.getElementById("live").classList.add("down");
    if (err.message === "unknown user") app.me = "U0ADMIN1"; // a stale choice remembered by the browser
  } finally {
    app.busy = false;
  }
}

function start() {
  document.getElementById("user-select").addEventListener("change", (event) => {
    app.me = event.target.value;
    localStorage.setItem("sandbox-user", app.me);
    say(`Now acting as ${userName(app.me)}.`);
    if (app.tab === "home") openHome(); // the Home tab is each user's own
    else refresh(true);
  });
  document.getElementById("tab-channel").addEventListener("click", () => showTab("channel", ""));
  document.getElementById("tab-home").addEventListener("click", () => showTab("home"));
  document.getElementById("view-submit").addEventListener("click", submitModal);
  document.getElementById("view-cancel").addEventListener("click", closeModal);
  document.getElementById("view-x").addEventListener("click", closeModal);
  document.addEventListener("keydown", (event) => {
    const confirming = !document.getElementById("confirm-modal").hidden; // that dialog's own Escape comes first
    if (event.key === "Escape" && !confirming && !document.getElementById("view-modal").hidden) closeModal();
  });
  document.getElementById("command-form").addEventListener("submit", sendCommand);
  document.getElementById("digest-post").addEventListener("click", postDigest);
  document.getElementById("account-refresh").addEventListener("click", refreshAccount);
  refresh(true);
  refreshAccount();
  setInterval(refresh, POLL_MS);
}

document.addEventListener("DOMContentLoaded", start);
