"""The Celery app's settings: the delivery guarantees of issue 17 are configured, not assumed.

Both the coordinator and ``skyform worker`` make their app with ``make_app``, so these
settings are what both sides run with. The broker check talks to the machine's real
RabbitMQ and Redis, and to a port where nothing listens.
"""

from __future__ import annotations

import socket

import pytest

from skyform.distributed import app as celery_app
from skyform.errors import BrokerError, UsageError


def test_late_acks_rejection_on_worker_loss_prefetch_one_and_json_only():
    conf = celery_app.make_app("amqp://guest:guest@127.0.0.1:5672//").conf
    assert conf.task_acks_late is True and conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.accept_content == ["json"] and conf.task_serializer == "json"
    assert conf.task_ignore_result is True


def test_an_operation_ends_before_rabbitmqs_consumer_timeout(monkeypatch):
    monkeypatch.delenv("SKYFORM_LONGEST_OPERATION", raising=False)
    conf = celery_app.make_app("amqp://127.0.0.1//").conf
    assert conf.task_time_limit < celery_app.RABBITMQ_CONSUMER_TIMEOUT
    assert conf.task_soft_time_limit < conf.task_time_limit


def test_redis_redelivers_only_after_twice_the_longest_operation(monkeypatch):
    monkeypatch.setenv("SKYFORM_LONGEST_OPERATION", "120")
    conf = celery_app.make_app("redis://127.0.0.1:6379/0").conf
    assert conf.broker_transport_options == {"visibility_timeout": 240.0}
    assert conf.task_time_limit < conf.broker_transport_options["visibility_timeout"]


def test_the_visibility_timeout_can_be_shortened_but_never_to_the_hard_time_limit(monkeypatch):
    """SKYFORM_VISIBILITY_TIMEOUT: a killed worker's operation comes back sooner; at or below
    an operation's hard limit (longest + grace) it is refused, naming both figures."""
    monkeypatch.setenv("SKYFORM_LONGEST_OPERATION", "120")
    monkeypatch.setenv("SKYFORM_TIME_LIMIT_GRACE", "30")
    monkeypatch.setenv("SKYFORM_VISIBILITY_TIMEOUT", "200")
    conf = celery_app.make_app("redis://127.0.0.1:6379/0").conf
    assert conf.broker_transport_options == {"visibility_timeout": 200.0}
    assert conf.task_time_limit < conf.broker_transport_options["visibility_timeout"]
    refused = (
        (
            "150",
            "hard time limit, 150s (SKYFORM_LONGEST_OPERATION 120s + SKYFORM_TIME_LIMIT_GRACE 30s)",
        ),
        ("soon", "SKYFORM_VISIBILITY_TIMEOUT='soon' is not a number of seconds"),
    )
    for bad, said in refused:
        monkeypatch.setenv("SKYFORM_VISIBILITY_TIMEOUT", bad)
        with pytest.raises(UsageError) as err:
            celery_app.make_app("redis://127.0.0.1:6379/0")
        assert said in err.value.message


def test_the_broker_comes_from_the_flag_then_the_environment_then_local_rabbitmq(monkeypatch):
    monkeypatch.delenv("SKYFORM_BROKER", raising=False)
    assert celery_app.broker_url() == celery_app.DEFAULT_BROKER
    monkeypatch.setenv("SKYFORM_BROKER", "redis://127.0.0.1:6379/3")
    assert celery_app.broker_url() == "redis://127.0.0.1:6379/3"
    assert celery_app.broker_url("amqp://a@b//") == "amqp://a@b//"


def test_a_url_that_is_no_broker_is_a_usage_error_without_its_password():
    with pytest.raises(UsageError) as err:
        celery_app.broker_url("http://user:hunter22@example.invalid/")
    assert "hunter22" not in err.value.message and "***" in err.value.message


def test_a_broker_password_is_never_printed(monkeypatch):
    from skyform import redact

    celery_app.broker_url("amqp://skyform:s3cret-broker@127.0.0.1:5672//")
    assert "s3cret-broker" not in redact.redact("connecting to amqp://skyform:s3cret-broker@127.0.0.1")


@pytest.mark.parametrize("url", ["amqp://guest:guest@127.0.0.1:5672//", "redis://127.0.0.1:6379/0"])
def test_the_machines_brokers_answer(url):
    celery_app.check_broker(celery_app.make_app(url))


def test_a_broker_that_does_not_answer_is_a_clear_error_naming_it():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free once closed: nothing listens there
    with pytest.raises(BrokerError) as err:
        celery_app.check_broker(celery_app.make_app(f"redis://127.0.0.1:{port}/0"), timeout=1)
    assert f"127.0.0.1:{port}" in err.value.message and "--broker" in (err.value.hint or "")
