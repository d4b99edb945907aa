// PoseRec Live AR layer: for each pose message from ws://HOST:PORT/ws
//   {"type": "pose", "seq", "frame": [width, height],
//    "effect": {"name", "cx", "cy", "w", "h", "angle", "opacity"} | null, "art": "/art/..." | null}
// draw the effect's art centred at (cx, cy), w x h, turned by angle degrees (clockwise), with
// its opacity; fractions of the stage, which has the frame's aspect. Other messages (the
// recommendation records) are for the overlay card.
"use strict";

(() => {
  const RECONNECT_MS = [250, 500, 1000, 2000, 5000];
  const stage = document.getElementById("stage");
  const art = document.getElementById("art");
  let attempts = 0;

  function percent(fraction) {
    return `${(100 * fraction).toFixed(3)}%`;
  }

  function draw(message) {
    const [width, height] = message.frame || [];
    if (width && height) {
      stage.style.setProperty("--aspect", String(width / height));
    }
    const effect = message.effect;
    if (!effect || !message.art) {
      art.style.display = "none";
      return;
    }
    if (art.getAttribute("src") !== message.art) art.setAttribute("src", message.art);
    art.style.left = percent(effect.cx - effect.w / 2);
    art.style.top = percent(effect.cy - effect.h / 2);
    art.style.width = percent(effect.w);
    art.style.height = percent(effect.h);
    art.style.transform = `rotate(${effect.angle}deg)`;
    art.style.opacity = String(effect.opacity);
    art.style.display = "block";
  }

  function connect() {
    const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://` +
                                 `${location.host}/ws`);
    socket.onopen = () => { attempts = 0; };
    socket.onmessage = event => {
      const message = JSON.parse(event.data);
      if (message.type === "pose") draw(message);
    };
    socket.onclose = () => {
      art.style.display = "none";
      setTimeout(connect, RECONNECT_MS[Math.min(attempts++, RECONNECT_MS.length - 1)]);
    };
  }

  connect();
})();
