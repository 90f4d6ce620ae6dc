from flask import Flask


def register_blueprints(app: Flask) -> None:
    from app.routes import admin, assistant, auth, calls, candidate, examiner, health, hr
    from app.routes import hr_overview
    from app.routes import hr_scores

    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(hr.bp)
    app.register_blueprint(hr_overview.bp)
    app.register_blueprint(hr_scores.bp)
    app.register_blueprint(assistant.bp)
    app.register_blueprint(examiner.bp)
    app.register_blueprint(examiner.scoring_bp)
    app.register_blueprint(candidate.bp)
    app.register_blueprint(calls.bp)
    from app.routes import hooks, recordings

    app.register_blueprint(hooks.bp)
    app.register_blueprint(recordings.bp)
