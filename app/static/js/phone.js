/*
 * Interview Room: the phone page (辅机位). Its status line posts to /calls/phone/<code>/ping
 * every few seconds (htmx); this adds what the phone's own Jitsi call says about its camera
 * (`camera=on|off`, read from the attributes static/js/jitsi-embed.js keeps on the call), and
 * asks for a report at once when that changes. The server counts the phone as connected only
 * when a staff page in the call has also seen it join: this report alone proves nothing.
 */
(function () {
  'use strict';

  function cameraState() {
    const call = document.querySelector('.jitsi-call');
    if (!call || call.getAttribute('data-jitsi-joined') !== 'true') {
      return call ? 'off' : '';
    }
    return call.getAttribute('data-jitsi-video') === 'on' ? 'on' : 'off';
  }

  function init() {
    document.body.addEventListener('htmx:configRequest', function (event) {
      const elt = event.detail && event.detail.elt;
      if (!elt || elt.id !== 'phone-ping') {
        return;
      }
      const camera = cameraState();
      if (camera) {
        event.detail.parameters.camera = camera;
      }
    });
    document.body.addEventListener('ir:own-video', function () {
      document.body.dispatchEvent(new CustomEvent('ir:phone-camera'));
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
}());
