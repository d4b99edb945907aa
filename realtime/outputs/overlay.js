// PoseRec Live overlay: shows the newest recommendation record from ws://HOST:PORT/ws
// ({"window_end", "effects": [{"name", "item", "score"}...], "top", "latency_ms", ...}, as a
// --jsonl line): the top effect as a badge with its art, and the distinct effects with their art
// and score bars; rows slide to their new places. Pose messages ({"type": "pose"}) are for /ar.
"use strict";

(() => {
  const RECONNECT_MS = [250, 500, 1000, 2000, 5000];
  const MOVE_MS = 350;
  const STILL = window.matchMedia("(prefers-reduced-motion: reduce)");
  const overlay = document.getElementById("overlay");
  const list = document.getElementById("top");
  const badge = document.getElementById("preview");
  const badgeName = document.getElementById("preview-name");
  const badgeArt = document.getElementById("preview-art");
  const badgeAnchor = document.getElementById("preview-anchor");
  const status = document.getElementById("status");
  let anchors = {};
  let attempts = 0;

  // The badge hue follows the name, as in the app's window: crc32 of its UTF-8 bytes, mod 360.
  const CRC_TABLE = Array.from({length: 256}, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });

  function crc32(text) {
    let crc = 0xffffffff;
    for (const byte of new TextEncoder().encode(text)) {
      crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
    }
    return (crc ^ 0xffffffff) >>> 0;
  }

  function badgeColour(name) {
    // HSV (hue, 170/255, 200/255) as the window draws it, written as HSL for CSS.
    const s = 170 / 255, v = 200 / 255, l = v * (1 - s / 2);
    const sl = l === 0 || l === 1 ? 0 : (v - l) / Math.min(l, 1 - l);
    return `hsl(${crc32(name) % 360} ${(sl * 100).toFixed(1)}% ${(l * 100).toFixed(1)}%)`;
  }

  function artUrl(name) {
    return `art/${encodeURIComponent(name)}`;
  }

  function makeRow(entry) {
    const row = document.createElement("li");
    row.className = "item entering";
    row.dataset.name = entry.name;
    row.innerHTML = '<span class="rank"></span><img class="art" alt=""><span class="name"></span>' +
      '<span class="score"></span><span class="bar"><span class="bar-fill"></span></span>';
    row.querySelector(".art").src = artUrl(entry.name);
    return row;
  }

  function showBadge(best) {
    if (badgeName.textContent === best.name) return;
    badgeName.textContent = best.name;
    badgeArt.src = artUrl(best.name);
    badgeAnchor.textContent = anchors[best.name] || "";
    badge.style.backgroundColor = badgeColour(best.name);
    badge.classList.remove("pop");
    void badge.offsetWidth;  // restart the animation
    badge.classList.add("pop");
  }

  function render(record) {
    const top = record.effects;
    if (!Array.isArray(top) || top.length === 0) return;
    const before = new Map([...list.children].map(row => [row.dataset.name,
                                                          row.getBoundingClientRect().top]));
    // Top-k scores are often close (0.94 to 0.96): bars span the shown range, from 30 % for
    // the lowest to 100 % for the highest, so that the order reads at a glance.
    const scores = top.map(entry => entry.score);
    const highest = Math.max(...scores), lowest = Math.min(...scores);
    const rows = top.map((entry, rank) => {
      const row = [...list.children].find(li => li.dataset.name === entry.name) ||
                  makeRow(entry);
      row.querySelector(".rank").textContent = String(rank + 1);
      row.querySelector(".name").textContent = entry.name;
      row.querySelector(".score").textContent = entry.score.toFixed(3);
      const share = highest > lowest ? 0.3 + 0.7 * (entry.score - lowest) / (highest - lowest) : 1;
      row.querySelector(".bar-fill").style.width = `${(100 * share).toFixed(1)}%`;
      return row;
    });
    for (const row of [...list.children]) if (!rows.includes(row)) row.remove();
    for (const row of rows) list.appendChild(row);
    for (const row of rows) {
      const was = before.get(row.dataset.name);
      if (was === undefined) {
        requestAnimationFrame(() => row.classList.remove("entering"));
        continue;
      }
      const shift = was - row.getBoundingClientRect().top;
      if (shift && !STILL.matches) {
        row.animate([{transform: `translateY(${shift}px)`}, {transform: "none"}],
                    {duration: MOVE_MS, easing: "ease-out"});
      }
    }
    showBadge(top[0]);
    overlay.classList.remove("waiting", "offline");
    overlay.dataset.windowEnd = String(record.window_end);
    status.textContent = `Live · ${Math.round(record.latency_ms)} ms`;
  }

  function connect() {
    const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://` +
                                 `${location.host}/ws`);
    socket.onopen = () => { attempts = 0; };
    socket.onmessage = event => {
      const message = JSON.parse(event.data);
      if (message.type !== "pose") render(message);
    };
    socket.onclose = () => {
      overlay.classList.add("offline");
      status.textContent = "Reconnecting to PoseRec Live…";
      setTimeout(connect, RECONNECT_MS[Math.min(attempts++, RECONNECT_MS.length - 1)]);
    };
  }

  fetch("effects.json")
    .then(response => response.json())
    .then(catalog => {
      for (const [name, effect] of Object.entries(catalog.effects)) {
        anchors[name] = effect.anchor.replace(/_/g, " ");
      }
      if (badgeName.textContent) badgeAnchor.textContent = anchors[badgeName.textContent] || "";
    })
    .catch(() => { anchors = {}; });
  connect();
})();
