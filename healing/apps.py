from django.apps import AppConfig


class HealingConfig(AppConfig):
    name = "healing"
    verbose_name = "Healing"

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from healing import audit, breaker_feed, pool_heads
        from healing.security import on_user_locked_out

        user_locked_out.connect(on_user_locked_out, dispatch_uid="healing.login_lockout_alert")
        audit.register()
        # The live feed's publishers: every process's breaker transitions and manual rotations.
        breaker_feed.install()
        pool_heads.connect()
