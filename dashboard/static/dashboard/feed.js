// The live feed client (DESIGN.md "Live feed"): one WebSocket per page to ws(s)://<this host>/ws/live/.
//
//   import { feed } from "/static/dashboard/feed.js";
//   feed.subscribe("breakers", (kind, data, message) => { ... });   // kind: "snapshot" | "event"
//
// Subscriptions made in the same tick go out as one `subscribe` message. After a reconnect, and
// when the server sends `resync` (it had to drop events), every channel is subscribed again, so
// each handler gets a fresh snapshot. Reconnects back off exponentially with jitter
// (0.5 s doubling to 30 s); a ping keeps idle proxies from closing the socket. #feed-status shows
// connecting, live or offline.

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;
const PING_EVERY_MS = 15_000;

export function backoffDelay(attempt, random = Math.random) {
  // Full jitter over the upper half: never a thundering herd, never an instant hammer.
  const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** attempt);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export function feedUrl(location = window.location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws/live/`;
}

class Feed {
  constructor() {
    this.handlers = new Map(); // channel -> Set(handler)
    this.presenceHandlers = new Set();
    this.pending = new Set(); // channels to send in the next batched subscribe
    this.socket = null;
    this.attempt = 0;
    this.timer = null;
    this.pingTimer = null;
    this.flushQueued = false;
    this.clientId = null;
    this.online = null;
    this.state = "connecting";
    this.stopped = false;
  }

  connect() {
    if (this.socket || this.timer || this.stopped) return;
    this.setState("connecting");
    let socket;
    try {
      socket = new WebSocket(feedUrl());
    } catch (error) {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => this.opened());
    socket.addEventListener("message", (event) => this.received(event.data));
    socket.addEventListener("close", () => this.closed(socket));
    // An error is always followed by close, where the reconnect is scheduled.
  }

  subscribe(channel, handler) {
    if (!this.handlers.has(channel)) this.handlers.set(channel, new Set());
    this.handlers.get(channel).add(handler);
    this.pending.add(channel);
    this.queueFlush();
    this.connect();
  }

  unsubscribe(channel, handler) {
    const set = this.handlers.get(channel);
    if (!set) return;
    if (handler) set.delete(handler);
    if (handler && set.size) return;
    this.handlers.delete(channel);
    this.pending.delete(channel);
    this.send({ type: "unsubscribe", channels: [channel] });
  }

  onPresence(fn) {
    this.presenceHandlers.add(fn);
    if (this.online !== null) fn(this.online, this.clientId);
  }

  queueFlush() {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  flush() {
    if (!this.pending.size || !this.isOpen()) return;
    const channels = [...this.pending];
    this.pending.clear();
    this.send({ type: "subscribe", channels });
  }

  isOpen() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  send(message) {
    if (!this.isOpen()) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  opened() {
    this.attempt = 0;
    this.setState("live");
    this.resubscribeAll();
    this.pingTimer = setInterval(() => this.send({ type: "ping" }), PING_EVERY_MS);
  }

  resubscribeAll() {
    for (const channel of this.handlers.keys()) this.pending.add(channel);
    this.flush();
  }

  closed(socket) {
    if (socket !== this.socket) return;
    this.socket = null;
    clearInterval(this.pingTimer);
    this.pingTimer = null;
    this.setState("offline");
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    if (this.timer || this.stopped) return;
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  received(raw) {
    let message;
    try {
      message = JSON.parse(raw);
    } catch (error) {
      return;
    }
    switch (message.type) {
      case "snapshot":
      case "event":
        this.dispatch(message.type, message);
        break;
      case "welcome":
        this.clientId = message.client_id ?? message.client ?? null;
        this.presence(message.online);
        break;
      case "presence":
        this.presence(message.online);
        break;
      case "resync":
        this.resync(message);
        break;
      default:
        break; // pong, error: nothing to update
    }
  }

  dispatch(kind, message) {
    const set = this.handlers.get(message.channel);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        handler(kind, message.data, message);
      } catch (error) {
        console.warn("feed handler failed", message.channel, error);
      }
    }
  }

  resync(message) {
    const named = message.channels ?? (message.channel ? [message.channel] : null);
    const channels = named ?? [...this.handlers.keys()];
    for (const channel of channels) if (this.handlers.has(channel)) this.pending.add(channel);
    this.flush();
  }

  presence(count) {
    if (typeof count !== "number") return;
    this.online = count;
    for (const fn of this.presenceHandlers) fn(count, this.clientId);
  }

  setState(state) {
    this.state = state;
    const el = document.getElementById("feed-status");
    if (!el) return;
    el.dataset.state = state;
    el.textContent = state;
  }
}

export const feed = new Feed();
