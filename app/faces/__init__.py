"""人脸核验: face comparison as the assistant's second pair of eyes (it measures and flags;
people decide).

- engine.py: dlib's HOG face detector and 128-d descriptors (models from face_recognition_models,
  loaded once per process); image bytes in, faces and descriptor out. Only RQ jobs call it.
- verdicts.py: distance and face count -> 一致 / 存疑 / 不一致 / 未检测到人脸 / 多张人脸 / 未能比对.
- stills.py: which stills a candidate may send when, where they are stored, the reference of
  the day, and the one function the retention purge calls.
- signals.py: a periodic still's verdict -> 人像离屏 / 他人在场 / 疑似替考 (audit + badge counters),
  and stills that stopped arriving.
"""
