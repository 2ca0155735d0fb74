# The independent classifier of test/user-agent.test.ts: Debian's python3-user-agents (on python3-ua-parser, the
# uap-core regexes), reading one JSON string per line on stdin and writing one JSON object per line.
import json
import sys

from user_agents import parse

for line in sys.stdin:
    ua = json.loads(line)
    u = parse(ua)
    if u.is_bot:
        device = 'bot'
    elif u.is_tablet:
        device = 'tablet'
    elif u.is_mobile:
        device = 'mobile'
    elif u.is_pc:
        device = 'desktop'
    else:
        device = 'other'
    print(json.dumps({
        'browser': u.browser.family,
        'browser_major': u.browser.version[0] if u.browser.version else None,
        'os': u.os.family,
        'os_major': u.os.version[0] if u.os.version else None,
        'device_type': device,
        'is_bot': u.is_bot,
    }))
