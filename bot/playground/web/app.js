/* mktbot playground: a minimal Slack client for LocalSlack's /playground API. Plain JS, no build step.
 *
 * The page polls GET /playground/state (about every 700 ms) and redraws what changed; everything a user
 * does is a POST that LocalSlack turns into exactly what Slack would send the bot (signed commands,
 * events, block_actions, view_submission).
 */
"use strict";

const POLL_MS = 700;

const COMMANDS = [
  ["/task", "add <title> [@owner] [due:<date>] · list [mine|overdue|blocked|all] · start|done <T> · block <T> <reason>", "Tasks with owners and dates"],
  ["/goal", "add <title> metric:<kpi> target:<n> by:<date> [owner:@user] · list · show <G> · checkin <G> <value>", "SMART goals and their pace"],
  ["/kpi", "log <metric> <value> [channel:<name>] [date:<date>] · show <metric> [by:channel] · define · list", "Log KPIs, see them over time"],
  ["/campaign", "add <name> start:<date> end:<date> [budget:<amount>] · list · show <C> · spend <C> <amount> · risk <C> <text>", "Promotions: budget, spend, risks"],
  ["/feedback", "<text> [campaign:<C>] [goal:<G>] [from:customer|team] [#tag …] · list", "Customer and team feedback"],
  ["/retro", "start [campaign:<C> | period:month|quarter] · close <R> · list", "Retrospectives in a thread"],
  ["/mkt", "help · digest now · schedule digest <HH:MM> · schedule report weekly <day> <HH:MM> · schedule list", "Help, digests and schedules"],
];

// The "Try" chips: reads and writes that work against the --demo team (tests/e2e/test_playground_history.py runs
// every one), in the language of the person the page is switched to.
const EXAMPLES = [
  "/mkt help",
  "/goal list",
  "/task list all",
  "/kpi show gmv by:channel",
  '/task add "Livestream teaser poster" @lilei due:fri campaign:C-2',
  "/task done T-5",
  "/kpi log gmv ¥52,000 orders 180 channel:天猫",
  "/goal checkin G-4 4.6% confidence:7 the win-back email is converting",
  '/feedback "Coupon page loads slowly on mobile" from:customer #ux',
  "/mkt digest now",
];
const EXAMPLES_ZH = [
  "/mkt help",
  "/goal list",
  "/task list all",
  "/kpi show gmv by:channel",
  '/task add "直播预告海报" @lilei due:fri campaign:C-2',
  "/task done T-4",
  "/kpi log gmv 5.2万 orders 160 channel:京东",
  "/goal checkin G-4 4.6% confidence:7 老客召回邮件效果不错",
  '/feedback "优惠券页面在手机上加载太慢" from:customer #ux',
  "/mkt digest now",
];

function examples() {
  const me = S.state && S.state.members.find((m) => m.id === S.me);
  return me && String(me.locale || "").startsWith("zh") ? EXAMPLES_ZH : EXAMPLES;
}

const EMOJI = {
  tada: "🎉", warning: "⚠️", white_check_mark: "✅", heavy_check_mark: "✔️", x: "❌", red_circle: "🔴",
  large_green_circle: "🟢", large_yellow_circle: "🟡", large_blue_circle: "🔵", white_circle: "⚪",
  large_orange_circle: "🟠", black_circle: "⚫", chart_with_upwards_trend: "📈", chart_with_downwards_trend: "📉",
  bar_chart: "📊", calendar: "📅", date: "📅", spiral_calendar_pad: "🗓️", memo: "📝", pencil: "📝", pencil2: "✏️",
  clipboard: "📋", pushpin: "📌", round_pushpin: "📍", dart: "🎯", rocket: "🚀", trophy: "🏆", medal: "🏅",
  checkered_flag: "🏁", speech_balloon: "💬", thought_balloon: "💭", information_source: "ℹ️", bulb: "💡",
  hourglass: "⌛", hourglass_flowing_sand: "⏳", alarm_clock: "⏰", stopwatch: "⏱️", clock9: "🕘",
  sunny: "☀️", cloud: "☁️", partly_sunny: "⛅", rain_cloud: "🌧️", zap: "⚡", fire: "🔥", sparkles: "✨",
  star: "⭐", star2: "🌟", seedling: "🌱", herb: "🌿", moneybag: "💰", money_with_wings: "💸", dollar: "💵",
  yen: "💴", credit_card: "💳", shopping_trolley: "🛒", shopping_bags: "🛍️", package: "📦", gift: "🎁",
  mega: "📣", loudspeaker: "📢", bell: "🔔", no_bell: "🔕", new: "🆕", repeat: "🔁", arrows_counterclockwise: "🔄",
  arrow_up: "⬆️", arrow_down: "⬇️", arrow_right: "➡️", arrow_left: "⬅️", arrow_upper_right: "↗️",
  arrow_lower_right: "↘️", arrow_heading_up: "⤴️", arrow_heading_down: "⤵️", small_red_triangle: "🔺",
  small_red_triangle_down: "🔻", heavy_plus_sign: "➕", heavy_minus_sign: "➖", wastebasket: "🗑️",
  inbox_tray: "📥", outbox_tray: "📤", email: "📧", envelope: "✉️", link: "🔗", paperclip: "📎",
  straight_ruler: "📏", triangular_ruler: "📐", busts_in_silhouette: "👥", bust_in_silhouette: "👤",
  wave: "👋", raised_hands: "🙌", clap: "👏", "+1": "👍", thumbsup: "👍", "-1": "👎", thumbsdown: "👎",
  ok_hand: "👌", pray: "🙏", muscle: "💪", eyes: "👀", smile: "😄", slightly_smiling_face: "🙂",
  thinking_face: "🤔", confused: "😕", scream: "😱", sob: "😭", heart: "❤️", broken_heart: "💔",
  100: "💯", lock: "🔒", unlock: "🔓", key: "🔑", mag: "🔍", gear: "⚙️", hammer_and_wrench: "🛠️",
  construction: "🚧", rotating_light: "🚨", no_entry: "⛔", no_entry_sign: "🚫", stop_sign: "🛑",
  question: "❓", exclamation: "❗", heavy_exclamation_mark: "❗", grey_question: "❔", eight_spoked_asterisk: "✳️",
  robot_face: "🤖", books: "📚", book: "📖", bookmark: "🔖", label: "🏷️", card_index_dividers: "🗂️",
  file_folder: "📁", open_file_folder: "📂", page_facing_up: "📄", scroll: "📜", newspaper: "📰",
  iphone: "📱", computer: "💻", tv: "📺", movie_camera: "🎥", camera: "📷", video_camera: "📹",
  handshake: "🤝", gem: "💎", crown: "👑", balloon: "🎈", confetti_ball: "🎊", point_right: "👉",
  point_up: "☝️", heavy_dollar_sign: "💲", chart: "💹", globe_with_meridians: "🌐", earth_asia: "🌏",
  truck: "🚚", hotsprings: "♨️", sweat_smile: "😅", grimacing: "😬", white_square_button: "🔳",
  black_square_button: "🔲", red_square: "🟥", green_square: "🟩", yellow_square: "🟨",
  large_green_square: "🟩", large_yellow_square: "🟨", large_red_square: "🟥", calling: "📲",
};

// ---- state -------------------------------------------------------------------------------------------

const S = {
  state: null,
  etag: null,
  me: localStorage.getItem("pg.me") || null,
  channel: localStorage.getItem("pg.channel") || null, // a channel id, or "app"
  tab: "home", // in the app view: "home" or "messages"
  thread: null, // {channel, ts}
  seen: JSON.parse(localStorage.getItem("pg.seen") || "{}"),
  notices: [], // client-side "Slackbot" notes: {channel, user, text, at}
  dismissed: new Set(),
  modalKey: null,
  modalErrors: {},
  homeKey: null,
  homeRequested: null,
  homeHandled: true,
  homeWaitSince: null,
  elements: { messages: new Map(), thread: new Map(), home: new Map(), modal: new Map() },
  pollTimer: null,
  polling: false,
  kicked: false,
  busy: false,
};

const $ = (sel, root = document) => root.querySelector(sel);

function h(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// ---- talking to the server ---------------------------------------------------------------------------

async function api(path, body) {
  try {
    const response = await fetch("/playground/" + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    let data;
    try {
      data = await response.json();
    } catch (_) {
      data = { ok: false, error: "HTTP " + response.status };
    }
    kick();
    return data;
  } catch (err) {
    return { ok: false, error: "The playground is not answering (" + err.message + ")" };
  }
}

async function poll() {
  if (S.polling) return;
  S.polling = true;
  clearTimeout(S.pollTimer);
  const started = Date.now();
  try {
    const query = new URLSearchParams({ since: S.etag || "" });
    if (S.me) query.set("user", S.me);
    const response = await fetch("/playground/state?" + query.toString(), { cache: "no-store" });
    const data = await response.json();
    $("#offline").hidden = true;
    if (data.clock) renderClock(data.clock);
    if (!data.unchanged && (!S.me || data.me === S.me)) {
      S.state = data;
      S.etag = data.etag;
      if (!S.me) S.me = data.me;
      render();
    }
    if (S.homeWaitSince && started > S.homeWaitSince) {
      S.homeWaitSince = null;
      $("#home").dataset.ready = "1";
    }
  } catch (_) {
    $("#offline").hidden = false;
  } finally {
    // exactly one timer chain: a kick during this poll asks for a quick next one instead of a second chain
    S.polling = false;
    clearTimeout(S.pollTimer);
    S.pollTimer = setTimeout(poll, S.kicked ? 60 : POLL_MS);
    S.kicked = false;
  }
}

function kick() {
  if (S.polling) {
    S.kicked = true;
    return;
  }
  clearTimeout(S.pollTimer);
  S.pollTimer = setTimeout(poll, 60);
}

// ---- people, channels, time ----------------------------------------------------------------------------

function user(id) {
  return (S.state?.users || []).find((u) => u.id === id);
}

function member(id) {
  return (S.state?.members || []).find((m) => m.id === id);
}

function displayName(id) {
  if (S.state && id === S.state.bot.id) return S.state.bot.name;
  const u = user(id);
  if (!u) return id;
  return u.real_name || u.display_name || u.name;
}

function mentionName(id) {
  const u = user(id);
  if (!u) return id;
  return u.display_name || u.name;
}

function initials(name) {
  const trimmed = (name || "?").trim();
  if (/^[\u3400-\u9fff]/.test(trimmed)) return trimmed.slice(0, 1);
  const parts = trimmed.split(/\s+/);
  return ((parts[0] || "?")[0] + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
}

function avatarHtml(id, extra = "") {
  if (S.state && id === S.state.bot.id) {
    return `<div class="avatar bot ${extra}" aria-hidden="true"><span>📈</span></div>`;
  }
  if (id === "USLACKBOT") return `<div class="avatar slackbot ${extra}" aria-hidden="true">✦</div>`;
  const m = member(id);
  const color = m ? m.color : "#616061";
  return `<div class="avatar ${extra}" style="background:${h(color)}" aria-hidden="true">${h(initials(displayName(id)))}</div>`;
}

function channelById(id) {
  return (S.state?.channels || []).find((c) => c.id === id);
}

function zone() {
  return S.state?.clock?.zone || lastClock?.zone || undefined;
}

function tsDate(ts) {
  return new Date(parseFloat(ts) * 1000);
}

function fmtTime(ts) {
  try {
    return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: zone() }).format(tsDate(ts));
  } catch (_) {
    return tsDate(ts).toLocaleTimeString();
  }
}

function fmtDay(ts) {
  try {
    return new Intl.DateTimeFormat("en-US", { weekday: "long", month: "long", day: "numeric", timeZone: zone() }).format(tsDate(ts));
  } catch (_) {
    return tsDate(ts).toDateString();
  }
}

// ---- mrkdwn --------------------------------------------------------------------------------------------

// Status circles carry meaning (on track / at risk / off track): drawn with CSS, so they read the same
// on a machine without a colour emoji font.
const DOTS = {
  red_circle: "red", large_green_circle: "green", large_yellow_circle: "yellow", large_blue_circle: "blue",
  white_circle: "white", black_circle: "black", large_orange_circle: "orange", large_purple_circle: "purple",
};

function emoji(name) {
  if (DOTS[name]) return `<span class="dot ${DOTS[name]}" title=":${h(name)}:" role="img" aria-label="${h(name.replace(/_/g, " "))}"></span>`;
  if (EMOJI[name]) return `<span class="emoji" title=":${h(name)}:">${EMOJI[name]}</span>`;
  return null;
}

function emojify(escapedText) {
  return escapedText.replace(/:([a-z0-9_+\-]+):/g, (whole, name) => emoji(name) || whole);
}

function unslack(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function safeHref(url) {
  return /^(https?:|mailto:)/i.test(url) ? url : null;
}

function controlSequence(inner) {
  const [target, label] = splitOnce(inner, "|");
  if (target.startsWith("@")) {
    const id = target.slice(1);
    const mine = id === S.me ? " me" : "";
    return `<span class="mention${mine}" data-user="${h(id)}">@${h(label || mentionName(id))}</span>`;
  }
  if (target.startsWith("#")) {
    const id = target.slice(1);
    const name = label || channelById(id)?.name || id;
    return `<a class="channel-link" href="#" data-channel="${h(id)}">#${h(name)}</a>`;
  }
  if (target.startsWith("!")) {
    const special = target.slice(1).split("^")[0];
    if (special.startsWith("date")) return h(label || "a date");
    if (special.startsWith("subteam")) return `<span class="mention">@${h(label || "group")}</span>`;
    return `<span class="mention here">@${h(label || special)}</span>`;
  }
  const href = safeHref(unslack(target));
  const text = label ? emojify(h(unslack(label))) : h(unslack(target));
  return href ? `<a href="${h(href)}" target="_blank" rel="noopener noreferrer">${text}</a>` : text;
}

function splitOnce(text, sep) {
  const at = text.indexOf(sep);
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
}

function mrkdwn(text) {
  if (!text) return "";
  const slots = [];
  const keep = (html) => `\u0000${slots.push(html) - 1}\u0000`;
  let t = String(text);
  t = t.replace(/```([\s\S]*?)```/g, (_, code) => keep(`<pre class="code-block">${h(unslack(code.replace(/^\n/, "")))}</pre>`));
  t = t.replace(/`([^`\n]+)`/g, (_, code) => keep(`<code>${h(unslack(code))}</code>`));
  t = t.replace(/<([^<>\n]+)>/g, (_, inner) => keep(controlSequence(inner)));
  t = h(unslack(t));
  const edge = "[^0-9A-Za-z]";
  t = t.replace(new RegExp(`(^|${edge})\\*(?!\\s)([^*\\n]+?)\\*(?=$|${edge})`, "g"), "$1<b>$2</b>");
  t = t.replace(new RegExp(`(^|${edge})_(?!\\s)([^_\\n]+?)_(?=$|${edge})`, "g"), "$1<i>$2</i>");
  t = t.replace(new RegExp(`(^|${edge})~(?!\\s)([^~\\n]+?)~(?=$|${edge})`, "g"), "$1<s>$2</s>");
  t = emojify(t);
  t = t
    .split("\n")
    .map((line) => (line.startsWith("&gt; ") || line === "&gt;" ? `<span class="quote">${line.replace(/^&gt; ?/, "")}</span>` : line))
    .join("\n");
  t = t.replace(/\n/g, "<br>");
  t = t.replace(/<\/span><br><span class="quote">/g, "<br>");
  // eslint-disable-next-line no-control-regex
  return t.replace(/\u0000(\d+)\u0000/g, (_, i) => slots[Number(i)]);
}

function textObject(obj) {
  if (!obj) return "";
  if (typeof obj === "string") return mrkdwn(obj);
  if (obj.type === "mrkdwn") return mrkdwn(obj.text);
  return obj.emoji === false ? h(obj.text) : emojify(h(obj.text));
}

function plain(obj) {
  if (!obj) return "";
  return typeof obj === "string" ? obj : obj.text || "";
}

// ---- Block Kit -----------------------------------------------------------------------------------------

function localImage(url) {
  if (!url) return null;
  if (url.startsWith("/") && !url.startsWith("//")) return url;
  if (url.startsWith("data:image/")) return url;
  try {
    const parsed = new URL(url, location.href);
    if (parsed.origin === location.origin) return parsed.pathname + parsed.search;
    if (["127.0.0.1", "localhost", location.hostname].includes(parsed.hostname) && parsed.pathname.startsWith("/files/")) {
      return parsed.pathname;
    }
  } catch (_) {
    return null;
  }
  return null; // an image elsewhere on the internet: never fetched from this page
}

function imageTag(url, alt, cls) {
  const local = localImage(url);
  if (!local) {
    return `<span class="${cls} external-image" title="${h(url)}">🖼 ${h(alt || "image")} <small>(not loaded: outside this machine)</small></span>`;
  }
  return `<img class="${cls}" src="${h(local)}" alt="${h(alt || "")}" loading="lazy">`;
}

function slackFileUrl(file) {
  if (!file) return null;
  if (file.url) return file.url;
  if (file.id) return `/files/${encodeURIComponent(file.id)}/`;
  return null;
}

function registerElement(region, info) {
  // A stable identity (where, block, action, value): a click on a node drawn just before a redraw still
  // finds the same element in the new drawing, never its neighbour.
  const map = S.elements[region];
  const where = info.ctx.viewId || info.ctx.channel + "/" + info.ctx.ts;
  const base = [where, info.blockId, info.el.action_id || "", info.el.value || "", info.el.type].join("|");
  let key = base;
  for (let n = 2; map.has(key); n += 1) key = base + "#" + n;
  map.set(key, info);
  return key;
}

function optionsOf(el) {
  const out = [...(el.options || [])];
  for (const group of el.option_groups || []) out.push(...(group.options || []));
  return out;
}

function renderElement(el, ctx, blockId, asInput) {
  const key = registerElement(ctx.region, { el, blockId, ctx });
  const aid = h(el.action_id || "");
  const common = `data-el="${h(key)}" data-action-id="${aid}" data-block-id="${h(blockId)}" data-type="${h(el.type)}"${asInput ? " data-input" : ""}`;
  const placeholder = h(plain(el.placeholder));
  switch (el.type) {
    case "button": {
      const style = el.style === "primary" ? " primary" : el.style === "danger" ? " danger" : "";
      return `<button type="button" class="bk-button${style}" ${common}>${textObject(el.text)}</button>`;
    }
    case "overflow": {
      const opts = optionsOf(el)
        .map((o) => `<button type="button" class="overflow-option" role="menuitem" data-overflow-value="${h(o.value)}">${h(plain(o.text))}</button>`)
        .join("");
      return `<span class="overflow"><button type="button" class="bk-overflow" ${common} title="More actions" aria-haspopup="menu">⋯</button><span class="overflow-menu" role="menu" hidden>${opts}</span></span>`;
    }
    case "static_select":
    case "external_select":
    case "radio_buttons_select": {
      const initial = el.initial_option?.value;
      const groups = el.option_groups
        ? el.option_groups
            .map((g) => `<optgroup label="${h(plain(g.label))}">${(g.options || []).map((o) => optionHtml(o, initial)).join("")}</optgroup>`)
            .join("")
        : (el.options || []).map((o) => optionHtml(o, initial)).join("");
      return `<select class="bk-select" ${common}><option value="">${placeholder || "Select an item"}</option>${groups}</select>`;
    }
    case "multi_static_select": {
      const initial = (el.initial_options || []).map((o) => o.value);
      const opts = optionsOf(el).map((o) => `<option value="${h(o.value)}"${initial.includes(o.value) ? " selected" : ""}>${h(plain(o.text))}</option>`).join("");
      return `<select multiple class="bk-select multi" ${common}>${opts}</select>`;
    }
    case "users_select":
    case "multi_users_select": {
      const multi = el.type.startsWith("multi");
      const initial = multi ? el.initial_users || [] : [el.initial_user];
      const people = (S.state?.users || []).filter((u) => !u.is_bot);
      const opts = people
        .map((u) => `<option value="${h(u.id)}"${initial.includes(u.id) ? " selected" : ""}>${h(u.real_name || u.name)} (@${h(u.name)})</option>`)
        .join("");
      return multi
        ? `<select multiple class="bk-select multi" ${common}>${opts}</select>`
        : `<select class="bk-select" ${common}><option value="">${placeholder || "Select a person"}</option>${opts}</select>`;
    }
    case "conversations_select":
    case "channels_select":
    case "multi_conversations_select":
    case "multi_channels_select": {
      const multi = el.type.startsWith("multi");
      const initial = [el.initial_conversation, el.initial_channel, ...(el.initial_conversations || []), ...(el.initial_channels || [])];
      const opts = (S.state?.channels || [])
        .map((c) => `<option value="${h(c.id)}"${initial.includes(c.id) ? " selected" : ""}>#${h(c.name)}</option>`)
        .join("");
      return multi
        ? `<select multiple class="bk-select multi" ${common}>${opts}</select>`
        : `<select class="bk-select" ${common}><option value="">${placeholder || "Select a channel"}</option>${opts}</select>`;
    }
    case "datepicker":
      return `<input type="date" class="bk-input" ${common} value="${h(el.initial_date || "")}">`;
    case "timepicker":
      return `<input type="time" class="bk-input" ${common} value="${h(el.initial_time || "")}">`;
    case "datetimepicker": {
      const initial = el.initial_date_time ? new Date(el.initial_date_time * 1000).toISOString().slice(0, 16) : "";
      return `<input type="datetime-local" class="bk-input" ${common} value="${h(initial)}">`;
    }
    case "number_input":
      return `<input type="number" class="bk-input" ${common} step="${el.is_decimal_allowed ? "any" : "1"}"${el.min_value != null ? ` min="${h(el.min_value)}"` : ""}${el.max_value != null ? ` max="${h(el.max_value)}"` : ""} value="${h(el.initial_value || "")}" placeholder="${placeholder}">`;
    case "email_text_input":
      return `<input type="email" class="bk-input" ${common} value="${h(el.initial_value || "")}" placeholder="${placeholder}">`;
    case "url_text_input":
      return `<input type="url" class="bk-input" ${common} value="${h(el.initial_value || "")}" placeholder="${placeholder}">`;
    case "plain_text_input": {
      const max = el.max_length ? ` maxlength="${h(el.max_length)}"` : "";
      if (el.multiline) return `<textarea class="bk-input" rows="4" ${common}${max} placeholder="${placeholder}">${h(el.initial_value || "")}</textarea>`;
      return `<input type="text" class="bk-input" ${common}${max} value="${h(el.initial_value || "")}" placeholder="${placeholder}">`;
    }
    case "checkboxes":
    case "radio_buttons": {
      const radio = el.type === "radio_buttons";
      const initial = radio ? [el.initial_option?.value] : (el.initial_options || []).map((o) => o.value);
      const name = h("g" + key);
      const opts = (el.options || [])
        .map(
          (o) =>
            `<label class="choice"><input type="${radio ? "radio" : "checkbox"}" name="${name}" value="${h(o.value)}"${initial.includes(o.value) ? " checked" : ""}> <span>${textObject(o.text)}${o.description ? `<small>${textObject(o.description)}</small>` : ""}</span></label>`,
        )
        .join("");
      return `<div class="bk-choices" ${common}>${opts}</div>`;
    }
    case "image":
      return imageTag(el.image_url || slackFileUrl(el.slack_file), el.alt_text, "bk-accessory-image");
    default:
      return `<span class="bk-unsupported">[${h(el.type)}]</span>`;
  }
}

function optionHtml(o, initial) {
  return `<option value="${h(o.value)}"${o.value === initial ? " selected" : ""}>${h(plain(o.text))}</option>`;
}

function richText(block) {
  const inline = (elements) =>
    (elements || [])
      .map((e) => {
        let out;
        if (e.type === "text") out = h(e.text).replace(/\n/g, "<br>");
        else if (e.type === "link") out = safeHref(e.url) ? `<a href="${h(e.url)}" target="_blank" rel="noopener noreferrer">${h(e.text || e.url)}</a>` : h(e.text || e.url);
        else if (e.type === "user") out = controlSequence("@" + e.user_id);
        else if (e.type === "channel") out = controlSequence("#" + e.channel_id);
        else if (e.type === "emoji") out = emoji(e.name) || `:${h(e.name)}:`;
        else if (e.type === "broadcast") out = `<span class="mention here">@${h(e.range)}</span>`;
        else out = h(e.text || "");
        const st = e.style || {};
        if (st.code) out = `<code>${out}</code>`;
        if (st.bold) out = `<b>${out}</b>`;
        if (st.italic) out = `<i>${out}</i>`;
        if (st.strike) out = `<s>${out}</s>`;
        return out;
      })
      .join("");
  return (block.elements || [])
    .map((part) => {
      if (part.type === "rich_text_section") return `<div>${inline(part.elements)}</div>`;
      if (part.type === "rich_text_preformatted") return `<pre class="code-block">${inline(part.elements)}</pre>`;
      if (part.type === "rich_text_quote") return `<span class="quote">${inline(part.elements)}</span>`;
      if (part.type === "rich_text_list") {
        const tag = part.style === "ordered" ? "ol" : "ul";
        return `<${tag}>${(part.elements || []).map((item) => `<li>${inline(item.elements)}</li>`).join("")}</${tag}>`;
      }
      return "";
    })
    .join("");
}

function renderBlock(block, ctx) {
  const bid = block.block_id || "";
  switch (block.type) {
    case "header":
      return `<div class="bk-header">${textObject(block.text)}</div>`;
    case "divider":
      return `<hr class="bk-divider">`;
    case "section": {
      const text = block.text ? `<div class="bk-text">${textObject(block.text)}</div>` : "";
      const fields = block.fields?.length ? `<div class="bk-fields">${block.fields.map((f) => `<div class="bk-field">${textObject(f)}</div>`).join("")}</div>` : "";
      const accessory = block.accessory ? `<div class="bk-accessory">${renderElement(block.accessory, ctx, bid, ctx.region === "modal" && block.accessory.type !== "button" && block.accessory.type !== "overflow" && block.accessory.type !== "image")}</div>` : "";
      return `<div class="bk-section" data-block-id="${h(bid)}"><div class="bk-section-main">${text}${fields}</div>${accessory}</div>`;
    }
    case "context":
      return `<div class="bk-context">${(block.elements || [])
        .map((e) => (e.type === "image" ? imageTag(e.image_url || slackFileUrl(e.slack_file), e.alt_text, "bk-context-image") : `<span>${textObject(e)}</span>`))
        .join("")}</div>`;
    case "actions":
      return `<div class="bk-actions" data-block-id="${h(bid)}">${(block.elements || [])
        .map((e) => renderElement(e, ctx, bid, ctx.region === "modal" && e.type !== "button" && e.type !== "overflow"))
        .join("")}</div>`;
    case "image": {
      const title = block.title ? `<div class="bk-image-title">${textObject(block.title)}</div>` : "";
      return `<figure class="bk-image">${title}${imageTag(block.image_url || slackFileUrl(block.slack_file), block.alt_text, "bk-img")}</figure>`;
    }
    case "input": {
      const optional = block.optional ? ` <span class="optional">(optional)</span>` : "";
      const hint = block.hint ? `<div class="bk-hint">${textObject(block.hint)}</div>` : "";
      const error = S.modalErrors[bid] && ctx.region === "modal" ? `<div class="bk-error">${h(S.modalErrors[bid])}</div>` : `<div class="bk-error" hidden></div>`;
      return `<div class="bk-input-block${S.modalErrors[bid] ? " has-error" : ""}" data-block-id="${h(bid)}"><label class="bk-label">${h(plain(block.label))}${optional}</label>${renderElement(block.element || {}, ctx, bid, true)}${hint}${error}</div>`;
    }
    case "rich_text":
      return `<div class="bk-rich">${richText(block)}</div>`;
    case "file":
      return `<div class="bk-unsupported">📎 remote file ${h(block.external_id || "")}</div>`;
    case "video":
      return `<div class="bk-unsupported">🎬 ${h(plain(block.title) || "video")} <small>(not loaded: outside this machine)</small></div>`;
    default:
      return `<div class="bk-unsupported">[${h(block.type)} block]</div>`;
  }
}

function renderBlocks(blocks, ctx) {
  return (blocks || []).map((b) => renderBlock(b, ctx)).join("");
}

function renderAttachments(attachments, ctx) {
  return (attachments || [])
    .map((a) => {
      const color = a.color ? (a.color.startsWith("#") ? a.color : { good: "#2eb67d", warning: "#ecb22e", danger: "#e01e5a" }[a.color] || "#" + a.color) : "#dddddd";
      const parts = [];
      if (a.pretext) parts.push(`<div>${mrkdwn(a.pretext)}</div>`);
      if (a.title) parts.push(`<div class="att-title">${h(a.title)}</div>`);
      if (a.text) parts.push(`<div>${mrkdwn(a.text)}</div>`);
      if (a.fields?.length) parts.push(`<div class="bk-fields">${a.fields.map((f) => `<div class="bk-field"><b>${h(f.title || "")}</b><br>${mrkdwn(f.value || "")}</div>`).join("")}</div>`);
      if (a.blocks) parts.push(renderBlocks(a.blocks, ctx));
      if (a.footer) parts.push(`<div class="bk-context">${mrkdwn(a.footer)}</div>`);
      return `<div class="attachment" style="border-left-color:${h(color)}">${parts.join("")}</div>`;
    })
    .join("");
}

function renderFiles(files) {
  return (files || [])
    .map((f) => {
      const isImage = (f.mimetype || "").startsWith("image/");
      if (isImage) {
        return `<figure class="file-image"><figcaption>${h(f.title || f.name)} <span class="muted">▾</span></figcaption><a href="${h(f.url)}" target="_blank"><img class="file-img" src="${h(f.url)}" alt="${h(f.title || f.name)}"></a></figure>`;
      }
      const kb = f.size ? ` · ${Math.max(1, Math.round(f.size / 1024))} KB` : "";
      return `<a class="file-card" href="${h(f.url)}" target="_blank"><span class="file-icon">📄</span><span><b>${h(f.title || f.name)}</b><br><small class="muted">${h((f.name.split(".").pop() || "").toUpperCase())}${kb}</small></span></a>`;
    })
    .join("");
}

// ---- messages ------------------------------------------------------------------------------------------

function messagesOf(channel) {
  return (S.state?.messages || []).filter((m) => m.channel === channel);
}

function topLevel(channel) {
  return messagesOf(channel).filter((m) => !m.thread_ts || m.broadcast);
}

function repliesOf(channel, ts) {
  return messagesOf(channel).filter((m) => m.thread_ts === ts);
}

function messageKey(m) {
  return m.channel + "/" + m.ts;
}

function messageHtml(m, opts) {
  const region = opts.region;
  const ctx = { region, channel: m.channel, ts: m.ts, ephemeral: m.ephemeral };
  const name = displayName(m.user);
  const badge = m.bot ? `<span class="badge">APP</span>` : "";
  const body = m.blocks && m.blocks.length ? renderBlocks(m.blocks, ctx) : `<div class="bk-text">${mrkdwn(m.text)}</div>`;
  // Slack marks people's edits; apps update their messages all the time (a clicked button), unmarked.
  const edited = m.edited && !m.bot ? ` <span class="edited">(edited)</span>` : "";
  const files = renderFiles(m.files);
  const attachments = renderAttachments(m.attachments, ctx);
  const reactions = m.reactions?.length
    ? `<div class="reactions">${m.reactions.map((r) => `<span class="reaction">${emoji(r.name) || ":" + h(r.name) + ":"} ${r.count}</span>`).join("")}</div>`
    : "";
  let thread = "";
  if (opts.showThread) {
    const replies = repliesOf(m.channel, m.ts);
    if (replies.length) {
      const people = [...new Set(replies.map((r) => r.user))].slice(0, 4).map((u) => avatarHtml(u, "tiny")).join("");
      const last = replies[replies.length - 1];
      thread = `<button type="button" class="thread-link" data-thread="${h(m.ts)}" data-channel="${h(m.channel)}">${people}<b>${replies.length} ${replies.length === 1 ? "reply" : "replies"}</b><span class="muted">Last reply ${fmtTime(last.ts)}</span></button>`;
    }
  }
  const ephemeral = m.ephemeral
    ? `<div class="ephemeral-note"><span aria-hidden="true">👁</span> Only visible to you <button type="button" class="link-btn" data-dismiss="${h(messageKey(m))}">Dismiss</button></div>`
    : "";
  const broadcast = m.broadcast && region === "messages" ? `<div class="muted small">replied to a thread</div>` : "";
  const classes = ["msg", m.ephemeral ? "ephemeral" : "", opts.grouped ? "grouped" : "", m.bot ? "from-bot" : ""].join(" ");
  const head = opts.grouped
    ? `<div class="gutter"><time title="${h(fmtDay(m.ts))}">${fmtTime(m.ts)}</time></div>`
    : `${avatarHtml(m.user)}`;
  const meta = opts.grouped ? "" : `<div class="meta"><span class="name">${h(name)}</span>${badge}<time title="${h(fmtDay(m.ts))}">${fmtTime(m.ts)}</time></div>`;
  const replyAction =
    opts.showThread && !m.ephemeral && region === "messages"
      ? `<div class="hover-actions"><button type="button" class="link-btn" data-thread="${h(m.ts)}" data-channel="${h(m.channel)}" title="Reply in thread">💬 Reply</button></div>`
      : "";
  return `<div class="${classes}" data-ts="${h(m.ts)}" data-user="${h(m.user)}">${head}<div class="msg-body">${ephemeral}${meta}${broadcast}<div class="content">${body}${edited}</div>${attachments}${files}${reactions}${thread}</div>${replyAction}</div>`;
}

function renderMessageList(list, container, region, opts = {}) {
  const nearBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 120;
  let html = opts.intro || "";
  let lastDay = null;
  let prev = null;
  for (const m of list) {
    if (S.dismissed.has(messageKey(m))) continue;
    const day = fmtDay(m.ts);
    if (day !== lastDay && !opts.noDays) {
      html += `<div class="day-divider"><span>${h(day)}</span></div>`;
      lastDay = day;
      prev = null;
    }
    const grouped =
      prev && !m.ephemeral && !prev.ephemeral && prev.user === m.user && parseFloat(m.ts) - parseFloat(prev.ts) < 300 && !opts.noGroup;
    html += messageHtml(m, { region, grouped, showThread: opts.showThread });
    prev = m;
  }
  for (const n of S.notices.filter((x) => x.channel === opts.channel && x.user === S.me)) {
    html += `<div class="msg ephemeral notice"><div class="avatar slackbot" aria-hidden="true">✦</div><div class="msg-body"><div class="ephemeral-note"><span aria-hidden="true">👁</span> Only visible to you</div><div class="meta"><span class="name">Slackbot</span><time>${h(n.at)}</time></div><div class="content">${mrkdwn(n.text)}</div></div></div>`;
  }
  container.innerHTML = html;
  if (nearBottom || opts.forceBottom) container.scrollTop = container.scrollHeight;
}

// ---- rendering the page --------------------------------------------------------------------------------

let lastClock = null;

function renderClock(clock) {
  lastClock = clock;
  $("#clock-date").textContent = clock.date;
  $("#clock-time").textContent = clock.time;
  $("#clock-zone").textContent = clock.zone;
  const offset = $("#clock-offset");
  if (clock.offset_hours) {
    const days = Math.floor(clock.offset_hours / 24);
    const hours = Math.round(clock.offset_hours - days * 24);
    offset.textContent = "+" + (days ? days + "d " : "") + (hours ? hours + "h" : "") + " ahead";
    offset.hidden = false;
  } else {
    offset.hidden = true;
  }
}

function currentChannelId() {
  if (!S.state) return null;
  if (S.channel === "app") return S.state.im.id;
  return channelById(S.channel) ? S.channel : S.state.channels[0]?.id;
}

function render() {
  const st = S.state;
  if (!st) return;
  if (S.channel !== "app" && !channelById(S.channel)) {
    S.channel = (st.channels.find((c) => c.name === "marketing") || st.channels[0]).id;
  }
  $("#team-name").textContent = st.team.name;
  renderSidebar();
  renderMain();
  renderThread();
  renderModal();
}

function unread(channelId) {
  const seenKey = S.me + ":" + channelId;
  const count = topLevel(channelId).filter((m) => !m.ephemeral).length;
  return count > (S.seen[seenKey] ?? count);
}

function markSeen(channelId) {
  const seenKey = S.me + ":" + channelId;
  S.seen[seenKey] = topLevel(channelId).filter((m) => !m.ephemeral).length;
  localStorage.setItem("pg.seen", JSON.stringify(S.seen));
}

function renderSidebar() {
  const st = S.state;
  const select = $("#user-switch");
  const options = st.members
    .map((m) => `<option value="${h(m.id)}"${m.id === S.me ? " selected" : ""}>${h(m.real_name)}${m.locale !== "en-US" ? " (" + h(m.locale) + ")" : ""}</option>`)
    .join("");
  if (select.dataset.options !== options) {
    select.innerHTML = options;
    select.dataset.options = options;
  }
  select.value = S.me;
  const me = member(S.me);
  $("#who-title").textContent = me ? me.title + (me.locale !== "en-US" ? " · locale " + me.locale : "") : "";
  $("#who-avatar").outerHTML = avatarHtml(S.me, "small").replace('class="avatar', 'id="who-avatar" class="avatar');

  const current = S.channel;
  $("#channel-list").innerHTML = st.channels
    .map((c) => {
      const cls = [c.id === current ? "active" : "", c.id !== current && unread(c.id) ? "unread" : ""].join(" ");
      return `<li><button type="button" class="${cls}" data-nav="${h(c.id)}"><span class="hash">#</span>${h(c.name)}</button></li>`;
    })
    .join("");
  const appUnread = current !== "app" && unread(st.im.id) ? " unread" : "";
  $("#app-list").innerHTML = `<li><button type="button" class="${current === "app" ? "active" : ""}${appUnread}" data-nav="app"><span class="app-icon">📈</span>${h(st.bot.name)}</button></li>`;
}

function renderMain() {
  const st = S.state;
  const isApp = S.channel === "app";
  const channelId = currentChannelId();
  const title = $("#channel-title");
  const topic = $("#channel-topic");
  const tabs = $("#tabs");
  const input = $("#input");
  if (isApp) {
    title.innerHTML = `<span class="app-icon">📈</span> ${h(st.bot.name)} <span class="badge">APP</span>`;
    topic.textContent = "Your private space with the bot: reminders arrive here";
    tabs.hidden = false;
    for (const b of tabs.querySelectorAll("button")) b.classList.toggle("active", b.dataset.tab === S.tab);
    input.placeholder = "Message " + st.bot.name;
  } else {
    const ch = channelById(channelId);
    title.textContent = "#" + ch.name;
    topic.textContent = ch.topic || "";
    tabs.hidden = true;
    input.placeholder = `Message #${ch.name} — type / for commands`;
  }
  const showHome = isApp && S.tab === "home";
  $("#messages").hidden = showHome;
  $("#composer").hidden = showHome;
  $("#home").hidden = !showHome;
  if (showHome) {
    renderHome();
    return;
  }
  const list = topLevel(channelId);
  const name = isApp ? st.bot.name : "#" + channelById(channelId).name;
  const intro = `<div class="channel-intro"><h2>${isApp ? "This is your space with " + h(st.bot.name) : "This is the very beginning of " + h(name)}</h2><p class="muted">${
    isApp ? "Reminders for your tasks arrive here. Slash commands work here too." : h(channelById(channelId).topic || "")
  }</p><div class="examples"><span class="muted">Try:</span>${examples().map((e) => `<button type="button" class="chip" data-example="${h(e)}">${h(e)}</button>`).join("")}</div></div>`;
  S.elements.messages = new Map();
  renderMessageList(list, $("#messages"), "messages", { intro, showThread: true, channel: channelId, forceBottom: S.forceBottom });
  S.forceBottom = false;
  markSeen(channelId);
}

function renderHome() {
  const st = S.state;
  const container = $("#home");
  if (S.homeRequested !== S.me) {
    // Slack shows the Home it has while the bot answers app_home_opened; data-ready marks the fresh one
    S.homeRequested = S.me;
    container.dataset.ready = "";
    api("home", { user: S.me }).then((res) => {
      S.homeHandled = !!res.handled;
      S.homeWaitSince = Date.now();
      if (!st.home) renderHome();
    });
  }
  const home = st.home;
  const key = home ? home.id + ":" + home.hash : "none:" + S.homeHandled;
  if (key === S.homeKey && container.childElementCount) return;
  S.homeKey = key;
  S.elements.home = new Map();
  if (!home) {
    container.innerHTML = `<div class="home-empty"><div class="big">📈</div><h2>${h(st.bot.name)} has not published a Home tab${S.homeHandled ? " yet" : ""}</h2><p class="muted">Slack sends the bot <code>app_home_opened</code> when you open this tab; a bot that answers with <code>views.publish</code> shows its Home here. Meanwhile the <b>Messages</b> tab has your reminders.</p></div>`;
    return;
  }
  container.innerHTML = `<div class="home-view">${renderBlocks(home.blocks, { region: "home", viewId: home.id })}</div>`;
}

function renderThread() {
  const pane = $("#thread");
  if (!S.thread) {
    pane.hidden = true;
    document.body.classList.remove("with-thread");
    return;
  }
  const parent = messagesOf(S.thread.channel).find((m) => m.ts === S.thread.ts);
  if (!parent) {
    S.thread = null;
    pane.hidden = true;
    return;
  }
  pane.hidden = false;
  document.body.classList.add("with-thread");
  const ch = channelById(S.thread.channel);
  $("#thread-channel").textContent = ch ? "#" + ch.name : S.state.bot.name;
  const replies = repliesOf(S.thread.channel, S.thread.ts);
  const divider = `<div class="reply-count"><span>${replies.length} ${replies.length === 1 ? "reply" : "replies"}</span></div>`;
  const container = $("#thread-messages");
  S.elements.thread = new Map();
  const nearBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 120;
  const parentHtml = messageHtml(parent, { region: "thread", grouped: false, showThread: false });
  renderMessageList(replies, container, "thread", { intro: parentHtml + divider, noDays: true, channel: "thread:" + S.thread.ts });
  if (nearBottom) container.scrollTop = container.scrollHeight;
}

// ---- modals ---------------------------------------------------------------------------------------------

function renderModal() {
  const root = $("#modal-root");
  const view = S.state.modal;
  if (!view) {
    if (S.modalKey) {
      root.innerHTML = "";
      S.modalKey = null;
      S.modalErrors = {};
    }
    return;
  }
  const key = view.id + ":" + view.hash;
  if (key === S.modalKey) return;
  S.modalKey = key;
  S.modalErrors = {};
  drawModal(view);
}

function drawModal(view) {
  const root = $("#modal-root");
  S.elements.modal = new Map();
  const depth = S.state.modal_depth || 1;
  const back = depth > 1 ? `<button type="button" class="icon-btn" data-modal="back" aria-label="Back">‹</button>` : "";
  const submit = view.submit ? `<button type="button" class="btn primary" data-modal="submit">${h(plain(view.submit))}</button>` : "";
  const close = `<button type="button" class="btn" data-modal="cancel">${h(plain(view.close) || (view.submit ? "Cancel" : "Close"))}</button>`;
  root.innerHTML = `<div class="modal-backdrop"><div class="modal" role="dialog" aria-modal="true" aria-label="${h(plain(view.title))}" data-view-id="${h(view.id)}">
    <div class="modal-head">${back}<span class="modal-app">📈</span><h2>${h(plain(view.title))}</h2><button type="button" class="icon-btn" data-modal="close" aria-label="Close">×</button></div>
    <div class="modal-body">${renderBlocks(view.blocks, { region: "modal", viewId: view.id })}</div>
    <div class="modal-error" hidden></div>
    <div class="modal-foot">${close}${submit}</div>
  </div></div>`;
  const first = root.querySelector("[data-input]:not([type=hidden])");
  if (first && first.focus) first.focus();
}

function inputValue(node) {
  const type = node.dataset.type;
  if (node.classList.contains("bk-choices")) {
    const checked = [...node.querySelectorAll("input:checked")].map((i) => i.value);
    return type === "radio_buttons" ? checked[0] ?? null : checked;
  }
  if (node.tagName === "SELECT" && node.multiple) return [...node.selectedOptions].map((o) => o.value);
  const value = node.value;
  if (type === "datetimepicker") return value ? Math.floor(new Date(value).getTime() / 1000) : null;
  return value === "" ? null : value;
}

function collectModalValues() {
  const values = {};
  for (const node of document.querySelectorAll("#modal-root [data-input]")) {
    const blockId = node.dataset.blockId;
    (values[blockId] = values[blockId] || {})[node.dataset.actionId] = inputValue(node);
  }
  return values;
}

function showFieldErrors(modal, errors) {
  for (const block of modal.querySelectorAll(".bk-input-block")) {
    const err = errors[block.dataset.blockId];
    block.classList.toggle("has-error", !!err);
    const slot = block.querySelector(".bk-error");
    slot.hidden = !err;
    slot.textContent = err || "";
  }
  S.modalErrors = errors;
}

function missingRequired(modal) {
  // Slack itself refuses to submit an empty required input; the bot never sees that submission.
  const errors = {};
  const blocks = S.state?.modal?.blocks || [];
  const values = collectModalValues();
  for (const block of blocks) {
    if (block.type !== "input" || block.optional) continue;
    const value = Object.values(values[block.block_id] || {})[0];
    const empty = value == null || value === "" || (Array.isArray(value) && !value.length);
    if (empty && modal.querySelector(`.bk-input-block[data-block-id="${CSS.escape(block.block_id)}"]`)) {
      errors[block.block_id] = "Please fill out this field.";
    }
  }
  return errors;
}

async function submitModal() {
  const modal = $("#modal-root .modal");
  if (!modal) return;
  const required = missingRequired(modal);
  if (Object.keys(required).length) {
    showFieldErrors(modal, required);
    return;
  }
  const button = modal.querySelector('[data-modal="submit"]');
  button.disabled = true;
  button.classList.add("loading");
  const res = await api("submit", { user: S.me, view_id: modal.dataset.viewId, values: collectModalValues() });
  button.disabled = false;
  button.classList.remove("loading");
  showFieldErrors(modal, res.errors || {});
  const general = modal.querySelector(".modal-error");
  general.hidden = res.ok || !!res.errors;
  general.textContent = res.ok || res.errors ? "" : res.error || "Something went wrong.";
  if (res.errors) {
    const unknown = Object.keys(res.errors).filter((b) => !modal.querySelector(`.bk-input-block[data-block-id="${CSS.escape(b)}"]`));
    if (unknown.length) {
      general.hidden = false;
      general.textContent = unknown.map((b) => res.errors[b]).join(" · ");
    }
  }
}

async function closeModal(all) {
  const modal = $("#modal-root .modal");
  if (!modal) return;
  const viewId = modal.dataset.viewId;
  $("#modal-root").innerHTML = "";
  S.modalKey = null;
  await api("close", { user: S.me, view_id: viewId, all });
}

// ---- actions --------------------------------------------------------------------------------------------

function notice(channel, text) {
  const at = lastClock ? lastClock.time : "";
  S.notices.push({ channel, user: S.me, text, at });
  render();
}

function toast(text, kind = "") {
  const t = $("#toast");
  t.textContent = text;
  t.className = "toast " + kind;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.hidden = true), 4500);
}

async function dispatchElement(node, value) {
  const region = node.closest("#modal-root") ? "modal" : node.closest("#home") ? "home" : node.closest("#thread") ? "thread" : "messages";
  const info = S.elements[region].get(node.dataset.el);
  if (!info) return;
  const { el, blockId, ctx } = info;
  if (el.confirm) {
    const ok = await confirmDialog(el.confirm);
    if (!ok) return;
  }
  const body = { user: S.me, action_id: el.action_id, block_id: blockId };
  if (value !== undefined) body.value = value;
  if (ctx.viewId) body.view_id = ctx.viewId;
  else {
    body.channel = ctx.channel;
    body.ts = ctx.ts;
  }
  if (el.type === "button" && el.url && safeHref(el.url)) window.open(el.url, "_blank", "noopener");
  node.disabled = true;
  node.classList.add("loading");
  const res = await api("click", body);
  node.disabled = false;
  node.classList.remove("loading");
  if (!res.ok) toast(res.error || "That did not work.", "error");
}

function closeOverflowMenus(except) {
  for (const menu of document.querySelectorAll(".overflow-menu:not([hidden])")) {
    if (!except || menu.parentElement !== except.parentElement) menu.hidden = true;
  }
}

function confirmDialog(confirm) {
  return new Promise((resolve) => {
    const root = document.createElement("div");
    root.className = "modal-backdrop confirm";
    root.innerHTML = `<div class="modal small" role="alertdialog" aria-modal="true"><div class="modal-head"><h2>${h(plain(confirm.title) || "Are you sure?")}</h2></div><div class="modal-body">${textObject(confirm.text)}</div><div class="modal-foot"><button type="button" class="btn" data-answer="no">${h(plain(confirm.deny) || "Cancel")}</button><button type="button" class="btn ${confirm.style === "danger" ? "danger" : "primary"}" data-answer="yes">${h(plain(confirm.confirm) || "Yes")}</button></div></div>`;
    document.body.appendChild(root);
    root.addEventListener("click", (e) => {
      const answer = e.target.closest("[data-answer]")?.dataset.answer;
      if (!answer) return;
      root.remove();
      resolve(answer === "yes");
    });
  });
}

async function send(text, { channel, thread }) {
  const line = text.trim();
  if (!line) return true;
  if (line.startsWith("/")) {
    const res = await api("command", { user: S.me, channel, text: line });
    if (!res.ok) notice(channel, res.error || "That command did not go through.");
    S.forceBottom = true;
    return true;
  }
  const res = await api("message", { user: S.me, channel, text: line, thread_ts: thread || null });
  if (!res.ok) {
    toast(res.error || "Could not send that message.", "error");
    return false;
  }
  S.forceBottom = true;
  return true;
}

async function submitComposer(event) {
  event.preventDefault();
  const input = $("#input");
  if (S.busy || !input.value.trim()) return;
  S.busy = true;
  const text = input.value;
  input.value = "";
  autosize(input);
  hideSuggest();
  $("#composer").classList.add("sending");
  const ok = await send(text, { channel: currentChannelId() });
  $("#composer").classList.remove("sending");
  S.busy = false;
  if (!ok) input.value = text;
  input.focus();
}

async function submitThread(event) {
  event.preventDefault();
  const input = $("#thread-input");
  if (!S.thread || !input.value.trim()) return;
  const text = input.value;
  input.value = "";
  autosize(input);
  if (text.trim().startsWith("/")) {
    toast("Slash commands go in the channel's message box, not in threads.", "error");
    input.value = text;
    return;
  }
  const ok = await send(text, { channel: S.thread.channel, thread: S.thread.ts });
  if (!ok) input.value = text;
  input.focus();
}

async function clockAction(button) {
  const action = button.dataset.clock;
  const body = { action };
  if (action === "digest") body.channel = currentChannelId();
  if (action === "advance") body.hours = Number(button.dataset.hours);
  for (const b of document.querySelectorAll(".clock-btn")) b.disabled = true;
  button.classList.add("loading");
  const res = await api("clock", body);
  for (const b of document.querySelectorAll(".clock-btn")) b.disabled = false;
  button.classList.remove("loading");
  if (res.clock) renderClock(res.clock);
  toast(res.ok ? res.note : res.error || "That did not work.", res.ok ? "" : "error");
  S.forceBottom = true;
}

// ---- the slash-command menu -----------------------------------------------------------------------------

let suggestIndex = 0;

function suggestions() {
  const value = $("#input").value;
  if (!value.startsWith("/") || /\s/.test(value)) return [];
  return COMMANDS.filter(([name]) => name.startsWith(value.toLowerCase()));
}

function updateSuggest() {
  const list = suggestions();
  const box = $("#suggest");
  if (!list.length) return hideSuggest();
  suggestIndex = Math.min(suggestIndex, list.length - 1);
  box.innerHTML = `<div class="suggest-title">Commands matching <b>${h($("#input").value)}</b></div>` + list
    .map(([name, usage, about], i) => `<button type="button" class="suggest-item${i === suggestIndex ? " active" : ""}" data-command="${h(name)}"><b>${h(name)}</b> <span class="muted">${h(usage)}</span><small>${h(about)}</small></button>`)
    .join("");
  box.hidden = false;
}

function hideSuggest() {
  $("#suggest").hidden = true;
  suggestIndex = 0;
}

function pickSuggestion(name) {
  const input = $("#input");
  input.value = name + " ";
  hideSuggest();
  input.focus();
}

function autosize(el) {
  el.style.height = "auto";
  el.style.height = Math.min(el.scrollHeight, 200) + "px";
}

// ---- wiring ---------------------------------------------------------------------------------------------

function openChannel(id) {
  S.channel = id;
  localStorage.setItem("pg.channel", id);
  S.thread = null;
  S.forceBottom = true;
  if (id === "app") {
    S.tab = "home";
    S.homeRequested = null;
  }
  render();
  $("#input").focus();
}

function switchUser(id) {
  S.me = id;
  localStorage.setItem("pg.me", id);
  S.etag = null;
  S.thread = null;
  S.modalKey = null;
  S.homeRequested = null;
  S.homeKey = null;
  S.forceBottom = true;
  $("#modal-root").innerHTML = "";
  kick();
}

function wire() {
  $("#composer").addEventListener("submit", submitComposer);
  $("#thread-composer").addEventListener("submit", submitThread);
  const input = $("#input");
  input.addEventListener("input", () => {
    autosize(input);
    updateSuggest();
  });
  input.addEventListener("keydown", (e) => {
    const list = suggestions();
    if (!$("#suggest").hidden && list.length) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        suggestIndex = (suggestIndex + (e.key === "ArrowDown" ? 1 : list.length - 1)) % list.length;
        updateSuggest();
        return;
      }
      if (e.key === "Tab" || (e.key === "Enter" && !e.shiftKey && list[suggestIndex][0] !== input.value)) {
        e.preventDefault();
        pickSuggestion(list[suggestIndex][0]);
        return;
      }
      if (e.key === "Escape") return hideSuggest();
    }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $("#composer").requestSubmit();
    }
  });
  const threadInput = $("#thread-input");
  threadInput.addEventListener("input", () => autosize(threadInput));
  threadInput.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $("#thread-composer").requestSubmit();
    }
  });
  $("#user-switch").addEventListener("change", (e) => switchUser(e.target.value));
  $("#thread-close").addEventListener("click", () => {
    S.thread = null;
    renderThread();
  });
  for (const b of document.querySelectorAll(".clock-btn")) b.addEventListener("click", () => clockAction(b));
  $("#tabs").addEventListener("click", (e) => {
    const tab = e.target.closest("[data-tab]")?.dataset.tab;
    if (!tab) return;
    S.tab = tab;
    if (tab === "home") S.homeRequested = null;
    S.forceBottom = true;
    render();
  });

  document.addEventListener("click", (e) => {
    const target = e.target;
    const nav = target.closest("[data-nav]");
    if (nav) return openChannel(nav.dataset.nav);
    const channelLink = target.closest("[data-channel]:not([data-thread])");
    if (channelLink && channelLink.classList.contains("channel-link")) {
      e.preventDefault();
      if (channelById(channelLink.dataset.channel)) openChannel(channelLink.dataset.channel);
      return;
    }
    const thread = target.closest("[data-thread]");
    if (thread) {
      S.thread = { channel: thread.dataset.channel, ts: thread.dataset.thread };
      renderThread();
      $("#thread-messages").scrollTop = $("#thread-messages").scrollHeight;
      $("#thread-input").focus();
      return;
    }
    const dismiss = target.closest("[data-dismiss]");
    if (dismiss) {
      S.dismissed.add(dismiss.dataset.dismiss);
      return render();
    }
    const example = target.closest("[data-example]");
    if (example) {
      const box = $("#input");
      box.value = example.dataset.example;
      box.focus();
      return;
    }
    const command = target.closest("[data-command]");
    if (command) return pickSuggestion(command.dataset.command);
    const modalButton = target.closest("[data-modal]");
    if (modalButton) {
      const what = modalButton.dataset.modal;
      if (what === "submit") return submitModal();
      if (what === "close") return closeModal(true);
      return closeModal(false);
    }
    const option = target.closest("[data-overflow-value]");
    if (option) {
      const menu = option.closest(".overflow");
      menu.querySelector(".overflow-menu").hidden = true;
      return dispatchElement(menu.querySelector("[data-el]"), option.dataset.overflowValue);
    }
    const button = target.closest("button[data-el]");
    closeOverflowMenus(button);
    if (button && button.dataset.type === "overflow") {
      const menu = button.parentElement.querySelector(".overflow-menu");
      menu.hidden = !menu.hidden;
      return;
    }
    if (button) return dispatchElement(button);
    if (!target.closest("#composer")) hideSuggest();
  });

  document.addEventListener("change", (e) => {
    const node = e.target.closest("[data-el]");
    if (!node || node.dataset.type === "button") return;
    if (node.hasAttribute("data-input")) return; // modal inputs are read at submit
    if (node.dataset.type === "overflow") return;
    dispatchElement(node, inputValue(node));
  });

  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && $("#modal-root .modal")) closeModal(true);
  });
}

// Text drawn before the CJK font arrived (a Chinese channel name in the sidebar) would stay as boxes in
// Chromium until redrawn: draw everything again once a font has loaded.
if (document.fonts) document.fonts.addEventListener("loadingdone", () => render());

wire();
poll();
