"""With REDIS_URL set, login attempts are counted in Redis (shared by every worker), not in memory.

Runs in a subprocess: Flask-Limiter binds its storage once per process, and the rest of the suite uses the
in-memory default. Needs the Redis server at TEST_REDIS_URL (.ci/run starts it when it is down).
"""

import json
import os
import subprocess
import sys
import textwrap

from tests.conftest import ROOT

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


SCRIPT = textwrap.dedent("""
    import json, re, sys, tempfile, secrets
    from pathlib import Path
    from tests.conftest import build_app, create_test_database, drop_test_databases
    tmp = Path(tempfile.mkdtemp())
    prefix = "canal-test-" + secrets.token_hex(4)
    app = build_app(create_test_database(tmp, "redis"), tmp, REDIS_URL=sys.argv[1],
                    RATELIMIT_STORAGE_URI=sys.argv[1], RATELIMIT_KEY_PREFIX=prefix, LOGIN_RATE_LIMIT="2 per minute")
    from marketplace.extensions import limiter
    client = app.test_client()
    statuses = []
    for _ in range(3):
        html = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        statuses.append(client.post("/login", data={"csrf_token": token, "email": "nobody@example.com",
                                                    "password": "wrong password here"}).status_code)
    import redis
    keys = [k.decode() for k in redis.Redis.from_url(sys.argv[1]).keys("*" + prefix + "*")]
    print(json.dumps({"statuses": statuses, "storage": type(limiter.storage).__name__, "keys": len(keys)}))
    redis.Redis.from_url(sys.argv[1]).delete(*keys) if keys else None
    drop_test_databases()
""")


def test_login_limit_is_stored_in_redis():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", SCRIPT, REDIS_URL], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["storage"] == "RedisStorage"
    assert outcome["statuses"] == [400, 400, 429]
    assert outcome["keys"] >= 1
