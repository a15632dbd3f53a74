"""docker-compose.yaml, checked without a Docker engine: the compose format's essentials, its
cross-references (services, volumes, variables, the Dockerfile), the CeleryExecutor wiring, and every
command and healthcheck against the real CLIs and endpoints they name.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from azure_emulator.control.routes import ROUTES as EMULATOR_ROUTES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yaml"

TOP_LEVEL_KEYS = {"version", "name", "include", "services", "networks", "volumes", "configs", "secrets", "models"}
SERVICE_KEYS = {
    "annotations",
    "attach",
    "blkio_config",
    "build",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "deploy",
    "develop",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "label_file",
    "labels",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "models",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "post_start",
    "pre_stop",
    "privileged",
    "profiles",
    "provider",
    "pull_policy",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "use_api_socket",
    "user",
    "userns_mode",
    "uts",
    "volumes",
    "volumes_from",
    "working_dir",
}
HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
RESTART = re.compile(r"^(no|always|unless-stopped|on-failure(:\d+)?)$")
DURATION = re.compile(r"^(\d+(\.\d+)?(us|ms|s|m|h))+$")
PORT = re.compile(r"^((\d{1,3}\.){3}\d{1,3}:)?\d+:\d+(/(tcp|udp))?$")
# $$ (a literal $), ${NAME}, ${NAME:-default} / -default / :?error / ?error / :+alt / +alt, and $NAME.
VARIABLE = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|_KEY)(_CMD)?$")
URL = re.compile(r"\bhttps?://[^\s'\"]+")
# The Airflow components of a CeleryExecutor deployment, by the command each runs.
AIRFLOW_COMPONENTS = {("api-server",), ("scheduler",), ("dag-processor",), ("triggerer",), ("celery", "worker")}


def interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """What compose makes of a value, with ``env`` as the environment (empty: every default applies)."""
    env = env or {}

    def replace(match: re.Match) -> str:
        escaped, name, operator, argument, bare = match.groups()
        if escaped:
            return "$"
        name = name or bare
        value = env.get(name)
        if operator in (":-", ":?"):
            return value if value else (argument if operator == ":-" else "")
        if operator in ("-", "?"):
            return value if value is not None else (argument if operator == "-" else "")
        if operator in (":+", "+"):
            return argument if (value if operator == ":+" else value is not None) else ""
        return value or ""

    return VARIABLE.sub(replace, value)


def strings(node):
    """Every string value in a parsed document (what compose interpolates)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def argv(command) -> list[str]:
    """A service command or healthcheck as the argument list the container runs (after interpolation)."""
    if isinstance(command, str):
        return shlex.split(interpolate(command))
    return [interpolate(word) for word in command]


def healthcheck_argv(service: dict) -> list[str]:
    test = service["healthcheck"]["test"]
    if isinstance(test, str) or test[0] == "CMD-SHELL":
        return shlex.split(interpolate(test if isinstance(test, str) else test[1]))
    return [interpolate(word) for word in test[1:]]


def shell_lines(words: list[str]) -> list[list[str]]:
    """The commands of a ``bash -c`` script, one argument list per line; other commands as they are."""
    if words[:1] == ["bash"] and any(flag.startswith("-") and "c" in flag for flag in words[1:-1]):
        return [shlex.split(line) for line in words[-1].splitlines() if line.strip()]
    return [words]


def runs_airflow(service: dict) -> bool:
    words = [w for line in shell_lines(argv(service.get("command", []))) for w in line]
    return "airflow" in words


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {name: str(value) for name, value in env.items()}


def mounts(service: dict) -> dict[str, tuple[str, bool]]:
    """Container path -> (source, read-only) of a service's volumes."""
    found = {}
    for entry in service.get("volumes", []):
        if isinstance(entry, dict):
            found[entry["target"]] = (entry.get("source", ""), bool(entry.get("read_only")))
        else:
            source, target, *mode = entry.split(":")
            found[target] = (source, "ro" in "".join(mode).split(","))
    return found


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(
        r"\\\n", " ", "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("#"))
    )
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict]:
    return compose["services"]


@pytest.fixture(scope="module")
def common(compose) -> dict:
    return compose["x-airflow-common"]


def service_running(services, *command: str) -> tuple[str, dict]:
    matches = [
        (name, s)
        for name, s in services.items()
        if argv(s.get("command", []))[: 1 + len(command)] == ["airflow", *command]
    ]
    assert len(matches) == 1, f"expected one service running 'airflow {' '.join(command)}', found {len(matches)}"
    return matches[0]


def service_with_image(services, prefix: str) -> tuple[str, dict]:
    matches = [(name, s) for name, s in services.items() if interpolate(s.get("image", "")).startswith(prefix)]
    assert len(matches) == 1, f"expected one service from a {prefix} image"
    return matches[0]


# --- the compose format ---------------------------------------------------------------------------------


def test_top_level_keys_are_compose_keys(compose):
    assert {key for key in compose if not key.startswith("x-")} <= TOP_LEVEL_KEYS
    assert compose["services"]


def test_every_service_has_an_image_or_a_build_and_only_known_keys(services):
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        assert {key for key in service if not key.startswith("x-")} <= SERVICE_KEYS, name
        if "restart" in service:
            assert RESTART.match(service["restart"]), name
        for port in service.get("ports", []):
            assert PORT.match(interpolate(str(port))), f"{name}: port {port!r}"


def test_healthchecks_are_well_formed(services):
    for name, service in services.items():
        check = service.get("healthcheck")
        if check is None:
            continue
        assert set(check) <= HEALTHCHECK_KEYS, name
        assert isinstance(check["test"], str) or check["test"][0] in ("CMD", "CMD-SHELL"), name
        for key in ("interval", "timeout", "start_period", "start_interval"):
            if key in check:
                assert DURATION.match(check[key]), f"{name}: healthcheck {key} {check[key]!r}"


def test_depends_on_names_services_with_valid_conditions(services):
    for name, service in services.items():
        depends = service.get("depends_on", {})
        entries = {d: {"condition": "service_started"} for d in depends} if isinstance(depends, list) else depends
        for target, spec in entries.items():
            assert target in services, f"{name} depends on unknown service {target!r}"
            assert target != name, f"{name} depends on itself"
            assert spec.get("condition", "service_started") in CONDITIONS, f"{name} -> {target}"
            if spec.get("condition") == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target} to be healthy: it has no check"
            if spec.get("condition") == "service_completed_successfully":
                assert services[target].get("restart", "no") == "no", f"{target} must run once to complete"


def test_every_long_running_service_has_a_healthcheck(services):
    one_shot = {
        t
        for s in services.values()
        for t, spec in (s.get("depends_on") or {}).items()
        if isinstance(spec, dict) and spec.get("condition") == "service_completed_successfully"
    }
    assert set(services) - one_shot - {name for name, s in services.items() if "healthcheck" in s} == set()


def test_named_volumes_are_declared_and_used(compose, services):
    declared = set(compose.get("volumes") or {})
    used = {
        source
        for s in services.values()
        for source, _ in mounts(s).values()
        if source and not source.startswith((".", "/", "~"))
    }
    assert used - declared == set(), "volumes used but not declared"
    assert declared - used == set(), "volumes declared but not used"


def test_variables_without_a_default_are_documented_in_the_readme(compose):
    readme = (ROOT / "README.md").read_text()
    undocumented = set()
    for value in strings(compose):
        for escaped, name, operator, _, bare in VARIABLE.findall(value):
            if escaped:
                continue
            assert not bare, f"${bare} in {value!r}: write ${{{bare}}}, with a default"
            if operator not in ("-", ":-") and name not in readme:
                undocumented.add(name)
    assert undocumented == set()


def test_secrets_are_variables_or_files_never_literals(services):
    for name, service in services.items():
        for variable, value in environment(service).items():
            if SECRET_NAME.search(variable):
                assert variable.endswith("_CMD") or "${" in value, f"{name}: {variable} is a literal"
            # Each variable reference becomes one marker word, so a URL's password can be told apart.
            marked = VARIABLE.sub(lambda m: "$" if m.group(1) else f"VAR{m.group(2) or m.group(5)}VAR", value)
            if "://" in marked and urlsplit(marked).password:
                assert re.fullmatch(r"VAR\w+VAR", urlsplit(marked).password), f"{name}: {variable} has a password"


# --- the image ------------------------------------------------------------------------------------------


def test_dockerfile_copies_what_the_services_use(common, services):
    build = common["build"] if isinstance(common["build"], dict) else {"context": common["build"]}
    context = ROOT / build["context"]
    instructions = dockerfile_instructions(context / build.get("dockerfile", "Dockerfile"))
    copies = {}
    for instruction, arguments in instructions:
        if instruction == "COPY":
            *sources, destination = [w for w in shlex.split(arguments) if not w.startswith("--")]
            copies.update({destination: source for source in sources})
    assert {"requirements.txt", "dags", "plugins", "include"} <= set(copies.values())
    for source in copies.values():
        assert (context / source).exists(), f"COPY {source}: no such path in the build context"

    def provided(path: str) -> bool:
        return any(path == dest or path.startswith(dest.rstrip("/") + "/") for dest in copies)

    env = environment(common)
    image_env = dict(re.findall(r"(\w+)=(\S+)", " ".join(a for i, a in instructions if i == "ENV")))
    for variable in ("AIRFLOW__CORE__DAGS_FOLDER", "AIRFLOW__CORE__PLUGINS_FOLDER"):
        assert provided(env[variable]), f"{variable}={env[variable]} is not copied into the image"
    assert all(provided(p) for p in image_env["PYTHONPATH"].split(":")), "PYTHONPATH names a path not copied"
    entrypoint = json.loads(next(a for i, a in instructions if i == "ENTRYPOINT"))
    assert entrypoint[:2] == ["python", "-m"]
    module = entrypoint[2].replace(".", "/") + ".py"
    assert any((ROOT / copies[d] / module).exists() for d in image_env["PYTHONPATH"].split(":") if d in copies)
    for name, service in services.items():
        if service.get("build") or interpolate(service.get("image", "")) == interpolate(common["image"]):
            assert service.get("build") == common["build"], f"{name} runs the image but builds it otherwise"


def test_dockerfile_installs_the_lock_with_the_makefiles_uv_and_python():
    instructions = dockerfile_instructions(ROOT / "Dockerfile")
    makefile = (ROOT / "Makefile").read_text()
    uv_version = re.search(r"^UV_VERSION := (\S+)", makefile, re.M).group(1)
    python_version = re.search(r"--python-version (\S+)", makefile).group(1)
    assert f"ARG UV_VERSION={uv_version}" in [f"{i} {a}" for i, a in instructions]
    assert re.fullmatch(rf"python:{re.escape(python_version)}[-.\w]*", instructions[0][1])
    runs = " ".join(a for i, a in instructions if i == "RUN")
    assert re.search(r"uv pip sync \S*requirements\.txt", runs)


# --- Airflow: CeleryExecutor, PostgreSQL, Redis ---------------------------------------------------------


def test_every_airflow_component_runs_once_and_workers_can_scale(services):
    for command in AIRFLOW_COMPONENTS:
        service_running(services, *command)
    _, worker = service_running(services, "celery", "worker")
    assert "container_name" not in worker, "a fixed name stops --scale"
    assert "ports" not in worker, "a fixed port stops --scale"


def test_services_that_run_airflow_use_the_shared_anchor(services, common):
    airflow_services = {name: s for name, s in services.items() if runs_airflow(s)}
    assert len(airflow_services) == len(AIRFLOW_COMPONENTS) + 1  # and the init service
    common_env = environment(common)
    for name, service in airflow_services.items():
        assert service["image"] == common["image"], name
        assert service["build"] == common["build"], name
        assert environment(service).items() >= common_env.items(), f"{name} drops or changes shared settings"
        assert service["volumes"] == common["volumes"], name
        assert service["depends_on"].items() >= common["depends_on"].items(), name


def test_init_migrates_the_database_and_prepares_the_shared_secrets(services):
    init = [
        name for name, s in services.items() if ["airflow", "db", "migrate"] in shell_lines(argv(s.get("command", [])))
    ]
    assert len(init) == 1
    lines = shell_lines(argv(services[init[0]]["command"]))
    assert lines.index(["python", "-m", "imagepool_local.container", "init"]) < lines.index(
        ["airflow", "db", "migrate"]
    )
    for command in AIRFLOW_COMPONENTS:
        name, service = service_running(services, *command)
        assert service["depends_on"].get(init[0]) == {"condition": "service_completed_successfully"}, name


def test_celery_broker_and_result_backend_point_at_the_declared_services(services, common):
    env = {name: interpolate(value) for name, value in environment(common).items()}
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    postgres_name, postgres = service_with_image(services, "postgres:")
    redis_name, _ = service_with_image(services, "redis:")
    database = {k: interpolate(v) for k, v in environment(postgres).items()}
    for variable, scheme in (
        ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql+psycopg2"),
        ("AIRFLOW__CELERY__RESULT_BACKEND", "db+postgresql"),
    ):
        url = urlsplit(env[variable])
        assert (url.scheme, url.hostname, url.port or 5432) == (scheme, postgres_name, 5432), variable
        assert (url.username, url.password, url.path.lstrip("/")) == (
            database["POSTGRES_USER"],
            database["POSTGRES_PASSWORD"],
            database["POSTGRES_DB"],
        ), variable
    broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
    assert (broker.scheme, broker.hostname, broker.port or 6379) == ("redis", redis_name, 6379)
    for name in (postgres_name, redis_name):
        assert common["depends_on"].get(name) == {"condition": "service_healthy"}, name


def test_the_lock_has_the_executor_and_database_drivers():
    pinned = {
        line.split("==")[0].lower()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith((" ", "#"))
    }
    assert {"apache-airflow-providers-celery", "celery", "redis", "psycopg2-binary"} <= pinned


def test_workers_reach_the_api_server_they_depend_on(services, common):
    url = urlsplit(interpolate(environment(common)["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]))
    api_name, api = service_running(services, "api-server")
    assert url.hostname == api_name
    assert url.path == "/execution/"
    assert any(interpolate(p).rsplit(":", 1)[-1] == str(url.port) for p in api["ports"])
    for command in (("celery", "worker"), ("triggerer",)):
        name, service = service_running(services, *command)
        assert service["depends_on"].get(api_name) == {"condition": "service_healthy"}, name


# --- the local Azure cloud ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator_options() -> set[str]:
    result = subprocess.run(
        [sys.executable, "-m", "azure_emulator", "--help"],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT / "include")),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return set(re.findall(r"(--[a-z][a-z-]*)", result.stdout))


def emulator_service(services) -> tuple[str, dict, dict[str, str]]:
    matches = [
        (n, s) for n, s in services.items() if argv(s.get("command", []))[:3] == ["python", "-m", "azure_emulator"]
    ]
    assert len(matches) == 1
    name, service = matches[0]
    words = argv(service["command"])[3:]
    assert all(w.startswith("--") for w in words[::2]), "options are --name value pairs"
    assert len(words) % 2 == 0, "options are --name value pairs"
    return name, service, dict(zip(words[::2], words[1::2]))


def test_emulator_command_uses_the_emulators_real_options(services, emulator_options):
    _, _, options = emulator_service(services)
    assert set(options) <= emulator_options
    assert float(options["--speed"]) > 0
    assert 0 < int(options["--port"]) < 65536


def test_emulator_listens_on_the_network_under_its_service_name(services):
    name, _, options = emulator_service(services)
    assert options["--host"] == "0.0.0.0", "on 127.0.0.1 no other container can reach it"
    assert options["--hostname"] == name, "its certificate and ready file must name the service"


def test_airflow_finds_the_emulators_ready_file_and_ca_at_the_same_paths(services, common):
    name, emulator, options = emulator_service(services)
    data_dir = options["--data-dir"]
    assert mounts(emulator)[data_dir][1] is False, "the emulator writes its data dir"
    assert Path(options["--ready-file"]).parent == Path(data_dir)
    assert interpolate(environment(common)["IMAGEPOOL_EMULATOR_READY_FILE"]) == options["--ready-file"]
    source, read_only = mounts(common)[data_dir]
    assert source == mounts(emulator)[data_dir][0], "same volume, same path for Airflow"
    assert read_only, "read-only for Airflow"
    assert common["depends_on"].get(name) == {"condition": "service_healthy"}


# --- healthchecks and commands against the real endpoints and CLIs --------------------------------------

AIRFLOW_PROBE = """
import json, sys
from airflow.api_fastapi.core_api.routes.public import public_router
from airflow.cli.cli_parser import get_parser
from airflow.configuration import conf
import airflow.providers.celery.executors.celery_executor as celery_executor
import airflow.utils.scheduler_health as scheduler_health, inspect

parser = get_parser()
answers = {}
for command in json.loads(sys.argv[1]):
    try:
        parser.parse_args(command)
        answers[" ".join(command)] = None
    except SystemExit as exc:
        answers[" ".join(command)] = f"exit {exc.code}"
print(json.dumps({
    "commands": answers,
    "api_paths": sorted({route.path for route in public_router.routes}),
    "api_port": conf.getint("api", "port"),
    "scheduler_health_port": conf.getint("scheduler", "scheduler_health_check_server_port"),
    "scheduler_health_path": '"/health"' in inspect.getsource(scheduler_health),
    "celery_app": type(celery_executor.app).__name__,
}))
"""


def airflow_commands(services) -> list[list[str]]:
    """Every ``airflow`` command line of the file: service commands, init script lines, healthchecks."""
    found = []
    for service in services.values():
        lines = shell_lines(argv(service.get("command", [])))
        if "healthcheck" in service:
            lines.append(healthcheck_argv(service))
        found += [line[1:] for line in lines if line[:1] == ["airflow"]]
    return found


@pytest.fixture(scope="module")
def airflow_facts(services, common, tmp_path_factory) -> dict:
    """What Airflow itself says, in a process configured like the compose file's components."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    env.update(
        AIRFLOW_HOME=str(tmp_path_factory.mktemp("airflow-home")),
        AIRFLOW__CORE__EXECUTOR=environment(common)["AIRFLOW__CORE__EXECUTOR"],
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
    )
    # The shell fills in the container's host name; any name parses the same.
    commands = [[re.sub(r"\$\{?HOSTNAME\}?", "worker-1", word) for word in c] for c in airflow_commands(services)]
    result = subprocess.run(
        [sys.executable, "-c", AIRFLOW_PROBE, json.dumps(commands)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_airflow_command_is_one_airflow_accepts(services, airflow_facts):
    assert len(airflow_facts["commands"]) >= len(AIRFLOW_COMPONENTS) + 1
    assert {command: error for command, error in airflow_facts["commands"].items() if error} == {}


def test_the_init_script_and_entrypoint_modules_exist(services):
    for service in services.values():
        for line in shell_lines(argv(service.get("command", []))):
            if line[:2] == ["python", "-m"]:
                module = line[2].replace(".", "/")
                assert (ROOT / "include" / f"{module}.py").exists() or (ROOT / "include" / module).is_dir(), line


def test_worker_healthcheck_pings_the_celery_app_airflow_defines(services, airflow_facts):
    _, worker = service_running(services, "celery", "worker")
    check = healthcheck_argv(worker)
    assert check[:2] == ["celery", "--app"]
    assert "ping" in check
    assert check[2] == "airflow.providers.celery.executors.celery_executor.app"
    assert airflow_facts["celery_app"] == "Celery"


def healthcheck_url(service: dict) -> str:
    urls = URL.findall(" ".join(healthcheck_argv(service)))
    assert len(urls) == 1
    return urls[0]


def test_api_server_healthcheck_calls_the_monitor_endpoint(services, airflow_facts):
    _, api = service_running(services, "api-server")
    url = urlsplit(healthcheck_url(api))
    assert url.path == "/api/v2/monitor/health"
    assert url.path in airflow_facts["api_paths"]
    assert url.port == airflow_facts["api_port"]


def test_scheduler_healthcheck_calls_its_health_server(services, common, airflow_facts):
    _, scheduler = service_running(services, "scheduler")
    url = urlsplit(healthcheck_url(scheduler))
    assert url.path == "/health"
    assert airflow_facts["scheduler_health_path"]
    assert url.port == airflow_facts["scheduler_health_port"]
    assert environment(common)["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"


def test_emulator_healthcheck_calls_its_health_endpoint_by_name_with_its_ca(services):
    name, emulator, options = emulator_service(services)
    url = urlsplit(healthcheck_url(emulator))
    assert ("GET", url.path) in [(method, path) for method, path, _ in EMULATOR_ROUTES]
    assert (url.scheme, url.hostname, url.port) == ("https", options["--hostname"], int(options["--port"]))
    check = healthcheck_argv(emulator)
    assert check[check.index("--cacert") + 1] == str(Path(options["--data-dir"]) / "ca.pem")
