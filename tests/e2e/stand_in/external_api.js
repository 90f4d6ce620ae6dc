/*
 * Test stand-in for Jitsi's external_api.js (the IFrame API), used by the browser tests only.
 *
 * The page loads https://<JITSI_DOMAIN>/external_api.js exactly as in production; the tests'
 * browser answers that one request with this file (Playwright routing, see tests/e2e/README.md),
 * so no Jitsi server is needed and nothing leaves the machine.
 *
 * It records what the page built the call with, so tests can assert it:
 *   window.__jitsiCalls      [{domain, roomName, jwt, displayName, configOverwrite,
 *                              interfaceConfigOverwrite, devices, width, height, commands,
 *                              disposed}]
 *   parentNode[data-jitsi-stand-in]   the same record (without commands) as JSON, for a test
 *                              that only reads the DOM.
 *   window.__jitsiCommands   [{index, name, args}] every executeCommand, e.g. startRecording.
 * and it behaves enough like the real API for the page's own code to run: listeners, a
 * videoConferenceJoined shortly after construction, recordingStatusChanged after
 * startRecording/stopRecording, videoConferenceLeft + readyToClose after hangup, dispose().
 * Tests can emit any other event with window.__jitsiEmit(index, name, payload).
 *
 * Participants: each call keeps a list of the OTHER people in it (the page's own participant is
 * `standin<index>`, the id its videoConferenceJoined carries). A test adds and removes them:
 *   window.__jitsiJoin(index, {id, displayName})   emits participantJoined {id, displayName}
 *   window.__jitsiLeave(index, id)                 emits participantLeft {id}
 *   window.__jitsiParticipants(index)              the list now [{id, displayName}]
 * getParticipantsInfo() lists the page's own participant and the others
 * ([{participantId, displayName, formattedDisplayName}]), getRoomsInfo() the same in its one
 * main room. executeCommand('kickParticipant', id) is recorded like every command and removes
 * that participant: participantKickedOut {kicked: {id, local: false}, kicker: {id: own}} and
 * then participantLeft {id}; window.__jitsiKicked lists [{index, id, displayName}].
 * index -1 (or none) means the newest call that is not disposed.
 */
(function () {
  'use strict';

  window.__jitsiCalls = window.__jitsiCalls || [];
  window.__jitsiCommands = window.__jitsiCommands || [];
  window.__jitsiKicked = window.__jitsiKicked || [];
  var instances = [];
  var JOIN_DELAY_MS = 50;

  function copy(value) {
    if (value === undefined) {
      return null;
    }
    try {
      return JSON.parse(JSON.stringify(value));
    } catch (err) {
      return String(value);
    }
  }

  // Shows the fake camera in the call box, so screenshots look like a call is on.
  function showPicture(box, record) {
    box.style.background = '#1f2933';
    box.style.color = '#f5f7fa';
    box.style.borderRadius = '6px';
    box.style.padding = '12px';
    box.style.minHeight = '200px';
    box.style.display = 'flex';
    box.style.flexDirection = 'column';
    box.style.gap = '8px';
    var label = document.createElement('p');
    label.textContent = '视频通话（测试替身）· ' + (record.displayName || '') + ' · ' + record.roomName;
    label.style.margin = '0';
    label.style.fontSize = '13px';
    box.appendChild(label);
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return;
    }
    var video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    video.setAttribute('data-jitsi-stand-in-video', '');
    video.style.width = '320px';
    video.style.maxWidth = '100%';
    video.style.borderRadius = '4px';
    box.appendChild(video);
    navigator.mediaDevices.getUserMedia({video: true, audio: false}).then(function (stream) {
      if (!box.isConnected) {
        stream.getTracks().forEach(function (t) { t.stop(); });
        return;
      }
      video.srcObject = stream;
      video._standInStream = stream;
      var playing = video.play();
      if (playing && playing.catch) {
        playing.catch(function () {});
      }
    }).catch(function () { /* no camera: the label alone */ });
  }

  function JitsiMeetExternalAPI(domain, options) {
    if (!(this instanceof JitsiMeetExternalAPI)) {
      throw new TypeError('JitsiMeetExternalAPI must be called with new');
    }
    var opts = options || {};
    this._listeners = {};
    this._index = window.__jitsiCalls.length;
    this._disposed = false;
    this._others = []; // [{id, displayName}]: everyone in the call but the page itself
    this._record = {
      domain: domain,
      roomName: opts.roomName || null,
      jwt: opts.jwt || null,
      displayName: opts.userInfo ? opts.userInfo.displayName || null : null,
      configOverwrite: copy(opts.configOverwrite),
      interfaceConfigOverwrite: copy(opts.interfaceConfigOverwrite),
      devices: copy(opts.devices),
      width: copy(opts.width),
      height: copy(opts.height),
      commands: [],
      disposed: false
    };
    window.__jitsiCalls.push(this._record);
    instances.push(this);

    var parent = opts.parentNode || document.body;
    var box = document.createElement('div');
    box.className = 'jitsi-stand-in';
    parent.appendChild(box);
    this._box = box;
    this._parent = parent;
    var attribute = {};
    Object.keys(this._record).forEach(function (key) {
      if (key !== 'commands') {
        attribute[key] = this._record[key];
      }
    }, this);
    parent.setAttribute('data-jitsi-stand-in', JSON.stringify(attribute));
    showPicture(box, this._record);

    var self = this;
    setTimeout(function () {
      self._emit('videoConferenceJoined', {
        roomName: self._record.roomName,
        id: 'standin' + self._index,
        displayName: self._record.displayName
      });
    }, JOIN_DELAY_MS);
  }

  JitsiMeetExternalAPI.prototype._emit = function (name, payload) {
    if (this._disposed) {
      return;
    }
    (this._listeners[name] || []).slice().forEach(function (handler) {
      try {
        handler(payload || {});
      } catch (err) {
        window.__jitsiErrors = (window.__jitsiErrors || []).concat(String(err));
      }
    });
  };

  JitsiMeetExternalAPI.prototype.addListener = function (name, handler) {
    (this._listeners[name] = this._listeners[name] || []).push(handler);
  };
  JitsiMeetExternalAPI.prototype.on = JitsiMeetExternalAPI.prototype.addListener;

  JitsiMeetExternalAPI.prototype.addEventListener = JitsiMeetExternalAPI.prototype.addListener;

  JitsiMeetExternalAPI.prototype.removeListener = function (name, handler) {
    var list = this._listeners[name] || [];
    this._listeners[name] = list.filter(function (h) { return h !== handler; });
  };
  JitsiMeetExternalAPI.prototype.off = JitsiMeetExternalAPI.prototype.removeListener;

  JitsiMeetExternalAPI.prototype.executeCommand = function (name) {
    var args = Array.prototype.slice.call(arguments, 1);
    var entry = {index: this._index, name: name, args: copy(args)};
    this._record.commands.push(entry);
    window.__jitsiCommands.push(entry);
    var self = this;
    var later = function (event, payload) {
      setTimeout(function () { self._emit(event, payload); }, 10);
    };
    if (name === 'startRecording') {
      var mode = args[0] && args[0].mode ? args[0].mode : 'file';
      later('recordingStatusChanged', {on: true, mode: mode});
    } else if (name === 'stopRecording') {
      later('recordingStatusChanged', {on: false, mode: args[0] || 'file'});
    } else if (name === 'kickParticipant') {
      var gone = this._dropParticipant(args[0]);
      if (gone) {
        window.__jitsiKicked.push({index: this._index, id: gone.id, displayName: gone.displayName});
        later('participantKickedOut', {
          kicked: {id: gone.id, local: false},
          kicker: {id: 'standin' + this._index}
        });
        later('participantLeft', {id: gone.id});
      }
    } else if (name === 'hangup') {
      later('videoConferenceLeft', {roomName: this._record.roomName});
      later('readyToClose', {});
    }
  };

  JitsiMeetExternalAPI.prototype.executeCommands = function (commands) {
    Object.keys(commands || {}).forEach(function (name) {
      this.executeCommand.apply(this, [name].concat(commands[name]));
    }, this);
  };

  JitsiMeetExternalAPI.prototype.getIFrame = function () {
    return this._box;
  };

  JitsiMeetExternalAPI.prototype._dropParticipant = function (id) {
    var found = null;
    this._others = this._others.filter(function (p) {
      if (p.id === String(id)) {
        found = p;
        return false;
      }
      return true;
    });
    return found;
  };

  JitsiMeetExternalAPI.prototype._everyone = function () {
    var me = {id: 'standin' + this._index, displayName: this._record.displayName};
    return [me].concat(this._others).map(function (p) {
      return {participantId: p.id, displayName: p.displayName, formattedDisplayName: p.displayName};
    });
  };

  JitsiMeetExternalAPI.prototype.getParticipantsInfo = function () {
    return this._everyone();
  };

  JitsiMeetExternalAPI.prototype.getRoomsInfo = function () {
    var people = this._everyone().map(function (p) {
      return {id: p.participantId, displayName: p.displayName, role: 'participant'};
    });
    return Promise.resolve({rooms: [{id: this._record.roomName, isMainRoom: true, participants: people}]});
  };

  JitsiMeetExternalAPI.prototype.isAudioMuted = function () {
    return Promise.resolve(Boolean(this._record.configOverwrite && this._record.configOverwrite.startWithAudioMuted));
  };

  JitsiMeetExternalAPI.prototype.isVideoMuted = function () {
    return Promise.resolve(false);
  };

  JitsiMeetExternalAPI.prototype.dispose = function () {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._record.disposed = true;
    var video = this._box.querySelector('video');
    if (video && video._standInStream) {
      video._standInStream.getTracks().forEach(function (t) { t.stop(); });
    }
    if (this._box.parentNode) {
      this._box.parentNode.removeChild(this._box);
    }
  };

  window.JitsiMeetExternalAPI = JitsiMeetExternalAPI;
  window.__jitsiEmit = function (index, name, payload) {
    var api = instances[index];
    if (api) {
      api._emit(name, payload);
    }
  };

  function instance(index) {
    if (index === undefined || index === null || index < 0) {
      for (var i = instances.length - 1; i >= 0; i -= 1) {
        if (!instances[i]._disposed) {
          return instances[i];
        }
      }
      return null;
    }
    return instances[index] || null;
  }

  window.__jitsiJoin = function (index, participant) {
    var api = instance(index);
    if (!api || !participant || participant.id === undefined) {
      return false;
    }
    var person = {id: String(participant.id), displayName: participant.displayName || ''};
    api._dropParticipant(person.id);
    api._others.push(person);
    api._emit('participantJoined', {id: person.id, displayName: person.displayName});
    return true;
  };

  window.__jitsiLeave = function (index, id) {
    var api = instance(index);
    var gone = api ? api._dropParticipant(id) : null;
    if (gone) {
      api._emit('participantLeft', {id: gone.id});
    }
    return Boolean(gone);
  };

  window.__jitsiParticipants = function (index) {
    var api = instance(index);
    return api ? copy(api._others) : [];
  };
}());
