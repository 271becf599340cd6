/*
 * Pathfinder chat widget. Add to a council page with one tag:
 *   <script src="https://pathfinder.example.gov.uk/widget/pathfinder-widget.js" data-council="walsall" defer></script>
 * Optional attributes: data-bot-url (where the chat endpoints are; default: where this script
 * came from), data-team-name / data-team-phone (shown if the bot cannot be reached),
 * data-exit-url (where "Leave this site quickly" goes).
 *
 * Safety rules this file keeps:
 * - Every piece of bot and user text is set with textContent, never innerHTML.
 * - Links come only from button payloads with an https:, tel:, sms: or mailto: address.
 * - The chat lives in sessionStorage (this tab only), never localStorage: phones and library
 *   computers are shared. "Leave this site quickly" and "Start again" wipe it.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.PathfinderWidget) { return; }

  var LINK_SCHEMES = ["https:", "tel:", "sms:", "mailto:"];
  var council = (script.getAttribute("data-council") || "").toLowerCase();
  var scriptUrl = new URL(script.src, document.baseURI);
  var botUrl = (script.getAttribute("data-bot-url") || scriptUrl.origin).replace(/\/+$/, "");
  var exitUrl = script.getAttribute("data-exit-url") || "https://www.bbc.co.uk/weather";
  var keyPrefix = "pathfinder:" + (council || "any") + ":";
  var POLL_MS = 5000;
  var TIMEOUT_MS = 30000;

  var facts = {
    name: "",
    team: script.getAttribute("data-team-phone")
      ? { name: script.getAttribute("data-team-name") || "Your leaving care team", phone: script.getAttribute("data-team-phone"), hours: "" }
      : null,
    outOfHours: null,
    unreachableHelp: "",
    retention_days: 90
  };

  var STARTERS = [
    ["Money I can get", "What money can I get?"],
    ["Somewhere to live", "Help with housing"],
    ["Health", "Help with my health"],
    ["College or uni", "Help with college or university"],
    ["Work", "Help finding a job"],
    ["Talk to a person", "I want to talk to a person"]
  ];

  // ---- storage (this tab only) -------------------------------------------------------------
  var storage = (function () {
    try {
      var test = keyPrefix + "test";
      window.sessionStorage.setItem(test, "1");
      window.sessionStorage.removeItem(test);
      return window.sessionStorage;
    } catch (e) {
      return null; // private modes may refuse storage: the chat still works, it just isn't kept
    }
  })();

  function load(name, fallback) {
    if (!storage) { return fallback; }
    try {
      var value = storage.getItem(keyPrefix + name);
      return value === null ? fallback : JSON.parse(value);
    } catch (e) {
      return fallback;
    }
  }

  function save(name, value) {
    if (storage) { try { storage.setItem(keyPrefix + name, JSON.stringify(value)); } catch (e) { /* full: keep going */ } }
  }

  function wipeStorage() {
    if (!storage) { return; }
    var doomed = [];
    for (var i = 0; i < storage.length; i++) {
      var key = storage.key(i);
      if (key && key.indexOf("pathfinder:") === 0) { doomed.push(key); }
    }
    doomed.forEach(function (key) { storage.removeItem(key); });
  }

  // The site issues the conversation id and a token that proves this tab was given it; every
  // turn and every poll carries the token (bot/web/conversation_ids.py). An id made up here
  // would be refused: ids are not secret enough to be the only key to a young person's chat.
  var TOKEN_HEADER = "X-Pathfinder-Token";

  var state = {
    id: load("id", null),
    token: load("token", null),
    history: load("history", []),
    consented: load("consented", false),
    open: load("open", false),
    staffSince: load("staffSince", 0),
    busy: false,
    pollTimer: null
  };

  function forgetConversation() {
    state.id = null;
    state.token = null;
    if (storage) { storage.removeItem(keyPrefix + "id"); storage.removeItem(keyPrefix + "token"); }
  }

  // Asked for on the first message, not on page load: leaving quickly must leave nothing behind.
  function ensureConversation() {
    if (state.id && state.token) { return Promise.resolve(); }
    return fetch(botUrl + "/webhooks/rest/session", { method: "POST", credentials: "omit" })
      .then(function (reply) {
        if (!reply.ok) { throw new Error("the chat server answered " + reply.status); }
        return reply.json();
      })
      .then(function (issued) {
        if (!issued || typeof issued.sender !== "string" || typeof issued.token !== "string") {
          throw new Error("the chat server gave no conversation id");
        }
        state.id = issued.sender;
        state.token = issued.token;
        save("id", state.id);
        save("token", state.token);
      });
  }

  function tokenHeaders(extra) {
    var headers = extra || {};
    headers[TOKEN_HEADER] = state.token;
    return headers;
  }

  // ---- small DOM helpers ---------------------------------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function button(label, className, onClick) {
    var node = el("button", className, label);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  function safeLink(value) {
    if (typeof value !== "string") { return null; }
    var url;
    try { url = new URL(value.trim()); } catch (e) { return null; }
    return LINK_SCHEMES.indexOf(url.protocol) >= 0 ? url.href : null;
  }

  function phoneLink(phone) {
    return "tel:" + String(phone).replace(/[^0-9+]/g, "");
  }

  // ---- the widget's structure ----------------------------------------------------------------
  var root = el("aside", "pf-root");
  root.setAttribute("aria-label", "Chat with Pathfinder");

  var launcher = button("Ask Pathfinder", "pf-launcher", function () { setOpen(!state.open); });
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "pf-panel");

  var panel = el("section", "pf-panel");
  panel.id = "pf-panel";
  panel.setAttribute("aria-labelledby", "pf-title");
  panel.hidden = true;

  var header = el("div", "pf-header");
  var title = el("h2", "pf-title", "Pathfinder");
  title.id = "pf-title";
  var subtitle = el("p", "pf-subtitle", "Ask about help for care leavers");
  var exitButton = button("Leave this site quickly", "pf-exit", quickExit);
  var tools = el("div", "pf-tools");
  var restartButton = button("Start again", "pf-secondary", startAgain);
  var closeButton = button("Close chat", "pf-secondary", function () { setOpen(false); launcher.focus(); });
  tools.appendChild(restartButton);
  tools.appendChild(closeButton);
  var titles = el("div", "pf-titles");
  titles.appendChild(title);
  titles.appendChild(subtitle);
  header.appendChild(titles);
  header.appendChild(exitButton);
  header.appendChild(tools);

  var notice = el("div", "pf-notice");
  var log = el("div", "pf-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", "Conversation");
  log.tabIndex = 0; // scrollable by keyboard
  var typing = el("p", "pf-typing");
  typing.setAttribute("role", "status");

  var form = el("form", "pf-form");
  var inputId = "pf-input";
  var label = el("label", "pf-label", "Type your question");
  label.htmlFor = inputId;
  var input = el("input", "pf-input");
  input.id = inputId;
  input.type = "text";
  input.autocomplete = "off";
  input.maxLength = 2000;
  input.setAttribute("enterkeyhint", "send");
  input.dir = "auto"; // typing in Arabic script runs right to left
  var send = el("button", "pf-send", "Send");
  send.type = "submit";
  var row = el("div", "pf-row");
  row.appendChild(input);
  row.appendChild(send);
  form.appendChild(label);
  form.appendChild(row);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || state.busy) { return; }
    input.value = "";
    sendMessage(text, text);
  });

  panel.appendChild(header);
  panel.appendChild(notice);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(form);
  root.appendChild(launcher);
  root.appendChild(panel);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { setOpen(false); launcher.focus(); }
  });

  // ---- privacy notice --------------------------------------------------------------------------
  function renderNotice() {
    notice.textContent = "";
    notice.hidden = state.consented;
    form.hidden = !state.consented;
    if (state.consented) { return; }
    var where = facts.name ? facts.name + "'s leaving care team" : "the council's leaving care team";
    notice.appendChild(el("h3", "pf-notice-title", "Before you start"));
    var points = el("ul", "pf-points");
    [
      "You are chatting with a computer, not a person.",
      "We keep what you type for " + facts.retention_days + " days, then delete it.",
      "Staff in " + where + " read chats to make the help better. Phone numbers, addresses and other details are hidden from them.",
      "If you ask us to contact you, we pass what you tell us to " + where + ".",
      "If you tell us someone is in danger, we may have to share it to keep them safe.",
      "The chat is only saved in this tab. Close the tab or press \"Leave this site quickly\" to clear it."
    ].forEach(function (text) { points.appendChild(el("li", null, text)); });
    notice.appendChild(points);
    notice.appendChild(button("OK, start chatting", "pf-primary", function () {
      state.consented = true;
      save("consented", true);
      renderNotice();
      if (!state.history.length) { welcome(); }
      input.focus();
    }));
  }

  function welcome() {
    var where = facts.name ? " from " + facts.name : "";
    addEntry({
      from: "bot",
      text: "Hi! I'm Pathfinder, a chatbot. Ask me about help for care leavers" + where + ", like money, housing, health, college or work.",
      buttons: STARTERS.map(function (pair) { return { title: pair[0], payload: pair[1] }; })
    });
  }

  // ---- messages --------------------------------------------------------------------------------
  var SPEAKERS = { user: "You said", bot: "Pathfinder said", worker: "A worker said", error: "Pathfinder said" };

  function addEntry(entry) {
    state.history.push(entry);
    save("history", state.history);
    // Append only the new message: rebuilding the live log would make screen readers
    // announce the whole conversation again. A new user turn retires the old suggestions.
    if (entry.from === "user") {
      Array.prototype.forEach.call(log.querySelectorAll(".pf-replies"), function (group) { group.remove(); });
    }
    log.appendChild(renderEntry(entry, true));
    log.scrollTop = log.scrollHeight;
  }

  function renderHistory() {
    log.textContent = "";
    var lastUser = -1;
    state.history.forEach(function (entry, index) { if (entry.from === "user") { lastUser = index; } });
    state.history.forEach(function (entry, index) {
      log.appendChild(renderEntry(entry, index > lastUser));
    });
    log.scrollTop = log.scrollHeight;
  }

  function renderEntry(entry, inLatestTurn) {
    var kind = SPEAKERS[entry.from] ? entry.from : "bot";
    var item = el("div", "pf-msg pf-" + kind);
    item.appendChild(el("span", "pf-visually-hidden", SPEAKERS[kind] + ": "));
    if (entry.text) {
      var paragraph = el("p", "pf-text", entry.text);
      paragraph.dir = "auto"; // Arabic, Dari, Pashto and Sorani read right to left (issue #18)
      item.appendChild(paragraph);
    }
    var links = [];
    var replies = [];
    (Array.isArray(entry.buttons) ? entry.buttons : []).forEach(function (choice) {
      if (!choice || typeof choice.title !== "string") { return; }
      var href = safeLink(choice.payload);
      if (href) { links.push([choice.title, href]); }
      else if (typeof choice.payload === "string" && !/^[a-z][a-z0-9+.-]*:/i.test(choice.payload.trim())) {
        replies.push(choice); // anything that looks like another kind of link is dropped, not sent
      }
    });
    if (links.length) {
      var linkList = el("ul", "pf-links");
      links.forEach(function (pair) {
        var a = el("a", "pf-link", pair[0]);
        a.href = pair[1];
        if (pair[1].indexOf("https:") === 0) { a.target = "_blank"; a.rel = "noopener noreferrer"; }
        var li = el("li");
        li.appendChild(a);
        linkList.appendChild(li);
      });
      item.appendChild(linkList);
    }
    if (replies.length && inLatestTurn && kind === "bot") { // old suggestions go, so keyboard users don't tab through them
      var group = el("div", "pf-replies");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Suggested replies");
      replies.forEach(function (choice) {
        var reply = button(choice.title, "pf-reply", function () {
          sendMessage(choice.payload, choice.title);
        });
        reply.dir = "auto"; // a language's button is in its own script
        group.appendChild(reply);
      });
      item.appendChild(group);
    }
    if (entry.from === "error") {
      [facts.team, facts.outOfHours].forEach(function (contact) {
        if (!contact || !contact.phone) { return; }
        var call = el("a", "pf-link pf-call", "Call " + contact.name + " on " + contact.phone);
        call.href = phoneLink(contact.phone);
        item.appendChild(call);
      });
    }
    return item;
  }

  function setBusy(busy) {
    state.busy = busy;
    send.disabled = busy;
    typing.textContent = busy ? "Pathfinder is typing…" : "";
    typing.classList.toggle("pf-typing-on", busy);
  }

  function sendMessage(text, shown) {
    if (state.busy) { return; }
    addEntry({ from: "user", text: shown });
    input.focus();
    setBusy(true);
    postTurn(text)
      .then(function (messages) {
        if (!Array.isArray(messages) || !messages.length) { showError(); return; }
        messages.forEach(function (message) {
          if (message && (typeof message.text === "string" || Array.isArray(message.buttons))) {
            addEntry({ from: "bot", text: message.text || "", buttons: message.buttons || [] });
          }
        });
        checkForWorker();
      })
      .catch(showError)
      .then(function () { setBusy(false); });
  }

  // notice_seen: the privacy notice was accepted, so the bot can skip its one-line version.
  function turnMetadata() {
    var metadata = {};
    if (state.consented) { metadata.notice_seen = true; }
    if (council) { metadata.council = council; }
    return metadata;
  }

  // A refused id or token (401/403: the site's key changed, or the id came from an old
  // version of this widget) gets a new conversation and the message is sent once more.
  function postTurn(text, retried) {
    return ensureConversation().then(function () {
      var controller = window.AbortController ? new AbortController() : null;
      var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
      return fetch(botUrl + "/webhooks/rest/webhook", {
        method: "POST",
        headers: tokenHeaders({ "Content-Type": "application/json" }),
        credentials: "omit",
        body: JSON.stringify({ sender: state.id, message: text, metadata: turnMetadata() }),
        signal: controller ? controller.signal : undefined
      }).then(function (reply) {
        if (timer) { clearTimeout(timer); }
        if ((reply.status === 401 || reply.status === 403) && !retried) {
          forgetConversation();
          return postTurn(text, true);
        }
        if (!reply.ok) { throw new Error("the chat server answered " + reply.status); }
        return reply.json();
      });
    });
  }

  // The words come from the site with the council's facts (the bot's own failure reply,
  // bot/web/app.py council_facts): the team, the emergency duty team out of hours, 999. Only
  // when even those could not be loaded does this file say it in its own words.
  function showError() {
    var help = facts.unreachableHelp || (facts.team
      ? "If you need help now, call " + facts.team.name + " on " + facts.team.phone + (facts.team.hours ? " (" + facts.team.hours + ")" : "") + "." +
        " If you're in danger, call 999. Samaritans are free any time on 116 123."
      : "If you need help now, call your personal adviser or leaving care team." +
        " If you're in danger, call 999. Samaritans are free any time on 116 123.");
    addEntry({ from: "error", text: "Sorry, I can't connect right now. Please try again in a minute. " + help });
  }

  // ---- staff replies while a worker has the conversation ---------------------------------------
  function checkForWorker() {
    if (state.pollTimer) { clearTimeout(state.pollTimer); state.pollTimer = null; }
    if (!state.id || !state.token) { return; }
    var query = "?sender=" + encodeURIComponent(state.id) + "&since=" + encodeURIComponent(state.staffSince);
    fetch(botUrl + "/webhooks/rest/updates" + query, { credentials: "omit", headers: tokenHeaders() })
      .then(function (reply) { return reply.ok ? reply.json() : { paused: false, messages: [] }; })
      .then(function (update) {
        (update.messages || []).forEach(function (message) {
          addEntry({ from: "worker", text: message.text || "" });
          state.staffSince = Math.max(state.staffSince, Number(message.timestamp) || 0);
          save("staffSince", state.staffSince);
        });
        if (update.paused) { state.pollTimer = setTimeout(checkForWorker, POLL_MS); }
      })
      .catch(function () { /* updates are a bonus; the next turn tries again */ });
  }

  // ---- open, close, start again, leave quickly ----------------------------------------------------
  function setOpen(open, moveFocus) {
    state.open = open;
    save("open", open);
    panel.hidden = !open;
    root.classList.toggle("pf-open", open);
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    launcher.textContent = open ? "Hide chat" : "Ask Pathfinder";
    if (open) {
      log.scrollTop = log.scrollHeight;
      if (moveFocus !== false) { (state.consented ? input : notice.querySelector("button") || input).focus(); }
    }
  }

  function startAgain() {
    if (state.pollTimer) { clearTimeout(state.pollTimer); }
    var consented = state.consented;
    wipeStorage();
    forgetConversation(); // the next message gets a new id from the site
    state.history = [];
    state.staffSince = 0;
    save("consented", consented);
    save("open", true);
    renderHistory();
    if (consented) { welcome(); }
    input.focus();
  }

  function quickExit() {
    wipeStorage();
    state.history = [];
    log.textContent = "";
    if (root.parentNode) { root.parentNode.removeChild(root); }
    window.location.replace(exitUrl);
  }

  // ---- start ---------------------------------------------------------------------------------------
  function loadCouncilFacts() {
    if (!council) { return Promise.resolve(); }
    return fetch(botUrl + "/widget/councils/" + encodeURIComponent(council) + ".json", { credentials: "omit" })
      .then(function (reply) { return reply.ok ? reply.json() : null; })
      .then(function (loaded) {
        if (!loaded) { return; }
        facts.name = loaded.name || "";
        facts.team = loaded.team || facts.team;
        facts.outOfHours = loaded.out_of_hours || null;
        facts.unreachableHelp = typeof loaded.unreachable_help === "string" ? loaded.unreachable_help : "";
        facts.retention_days = loaded.retention_days || facts.retention_days;
        subtitle.textContent = loaded.offer_name || subtitle.textContent;
      })
      .catch(function () { /* the attributes on the script tag are the fallback */ });
  }

  function addStyles() {
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = new URL("pathfinder-widget.css", scriptUrl).href;
    document.head.appendChild(css);
  }

  function start() {
    addStyles();
    document.body.appendChild(root);
    loadCouncilFacts().then(function () {
      renderNotice();
      renderHistory();
      if (state.open) { setOpen(true, false); } // after a reload: show the chat, don't grab focus
      root.setAttribute("data-ready", "true");
    });
  }

  window.PathfinderWidget = { version: "1" };
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
