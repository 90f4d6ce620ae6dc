from flask import Flask

from app.routes import (
    admin,
    assistant,
    auth,
    calls,
    candidate,
    examiner,
    faces,
    favicon,
    health,
    hooks,
    hr,
    recordings,
    supervisor,
)


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(health.bp)
    app.register_blueprint(favicon.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    hr.register(app)
    app.register_blueprint(assistant.bp)
    app.register_blueprint(examiner.bp)
    app.register_blueprint(examiner.scoring_bp)
    app.register_blueprint(candidate.bp)
    app.register_blueprint(calls.bp)
    app.register_blueprint(hooks.bp)
    app.register_blueprint(recordings.bp)
    app.register_blueprint(faces.bp)
    app.register_blueprint(supervisor.bp)
