/* face-stills.js: 人脸核验 stills from the candidate's own camera (no inline script: CSP).
 *
 *   #face-stills   data-url, data-csrf, data-every (seconds): rendered only where the server
 *                  expects a still now (the debug call before 身份已核验; the interview and the
 *                  rest room when the exam asks). The server decides what a still is for.
 *
 * A frame of the camera chosen in the device check (localStorage `ir.cameraId`) is drawn on a
 * 480x360 canvas and posted as a small JPEG. Nothing here ever blocks the page: a camera that
 * will not open, a refused or failed upload only means trying again at the next turn (the
 * consoles show stills that stopped arriving). A refusal that says "not now" ends the loop.
 * data-sent counts the stills accepted and data-state says what the loop does now (waiting,
 * opening, sending, stopped, or the camera's error): what a browser test, or someone looking at
 * a candidate's page, reads.
 */
(function () {
  "use strict";

  var WIDTH = 480;
  var HEIGHT = 360;
  var QUALITY = 0.8;
  var FIRST_AFTER_MS = 2500; // a camera that just opened shows a dark first frame

  var box = document.getElementById("face-stills");
  if (!box || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  var url = box.getAttribute("data-url");
  var csrf = box.getAttribute("data-csrf") || "";
  var every = Number(box.getAttribute("data-every")) || 30;

  var video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  var canvas = document.createElement("canvas");
  canvas.width = WIDTH;
  canvas.height = HEIGHT;
  var stream = null;
  var timer = null;
  var stopped = false;

  function say(state) {
    box.setAttribute("data-state", state);
  }

  function schedule(seconds) {
    if (stopped) return;
    say("waiting");
    clearTimeout(timer);
    timer = setTimeout(capture, Math.max(1, seconds) * 1000);
  }

  function stop() {
    stopped = true;
    say("stopped");
    clearTimeout(timer);
    if (stream) {
      stream.getTracks().forEach(function (track) {
        track.stop();
      });
      stream = null;
    }
  }

  function constraints() {
    var wanted = { width: { ideal: 640 }, height: { ideal: 480 } };
    try {
      var cameraId = window.localStorage.getItem("ir.cameraId");
      if (cameraId) wanted.deviceId = { ideal: cameraId };
    } catch (err) {
      // storage blocked: the default camera
    }
    return { video: wanted, audio: false };
  }

  function open() {
    if (stream && stream.active) return Promise.resolve();
    return navigator.mediaDevices.getUserMedia(constraints()).then(function (opened) {
      stream = opened;
      video.srcObject = opened;
      return video.play();
    });
  }

  function frameReady() {
    return video.readyState >= 2 && video.videoWidth > 0;
  }

  function draw() {
    // Cover the 4:3 canvas from the middle of whatever the camera gives.
    var scale = Math.max(WIDTH / video.videoWidth, HEIGHT / video.videoHeight);
    var w = video.videoWidth * scale;
    var h = video.videoHeight * scale;
    canvas.getContext("2d").drawImage(video, (WIDTH - w) / 2, (HEIGHT - h) / 2, w, h);
  }

  function capture() {
    say("opening");
    open()
      .then(function () {
        if (!frameReady()) {
          schedule(1);
          return;
        }
        draw();
        canvas.toBlob(send, "image/jpeg", QUALITY);
      })
      .catch(function (err) {
        schedule(every);
        say("camera: " + (err && err.name));
      });
  }

  function send(blob) {
    if (!blob) {
      schedule(every);
      return;
    }
    say("sending");
    var body = new FormData();
    body.append("csrf_token", csrf);
    body.append("still", blob, "still.jpg");
    fetch(url, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (answer) {
            if (response.status === 201) {
              box.setAttribute("data-sent", String(Number(box.getAttribute("data-sent")) + 1));
              schedule(answer.next || every);
            } else if (answer.stop || response.status === 401) {
              stop();
            } else {
              schedule(every);
            }
          });
      })
      .catch(function () {
        schedule(every);
      });
  }

  window.addEventListener("pagehide", stop);
  timer = setTimeout(capture, FIRST_AFTER_MS);
})();
