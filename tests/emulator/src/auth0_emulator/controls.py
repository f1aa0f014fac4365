# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runtime test controls: rate limit token buckets, injected latency and queued faults."""

import asyncio
import math
import re
import threading
import time

from auth0_emulator.model import invalid_body


class TokenBucket:
    """A token bucket of ``burst`` tokens refilled at ``rate`` per second."""

    def __init__(self, rate, burst, clock=time.monotonic):
        if rate <= 0 or burst < 1:
            raise ValueError('rate must be > 0 and burst >= 1')
        self.rate = float(rate)
        self.burst = int(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def take(self):
        """Take one token: (allowed, headers dict, retry_after seconds or None)."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            allowed = self._tokens >= 1
            if allowed:
                self._tokens -= 1
            # x-ratelimit-reset: UNIX second at which the bucket is full again
            reset = int(math.ceil(time.time() + (self.burst - self._tokens) / self.rate))
            headers = {'x-ratelimit-limit': str(self.burst), 'x-ratelimit-remaining': str(int(self._tokens)),
                       'x-ratelimit-reset': str(reset)}
            retry = None if allowed else max(1, int(math.ceil((1 - self._tokens) / self.rate)))
            return allowed, headers, retry


def parse_rate_limit(text):
    """Parse ``RPS:BURST`` into (rate, burst); None for an empty value."""
    if not text:
        return None
    match = re.fullmatch(r'(\d+(?:\.\d+)?):(\d+)', str(text))
    if not match or float(match.group(1)) <= 0 or int(match.group(2)) < 1:
        raise ValueError('rate limit must be RPS:BURST with RPS > 0 and BURST >= 1, got %r' % text)
    return float(match.group(1)), int(match.group(2))


class Controls:
    """Mutable test controls shared by the middleware and the admin API.

    Rate limiting uses two separate buckets of the same size: one for the whole Management API
    (Auth0's global limit) and one for /oauth/token (the Authentication API has its own limits).
    """

    def __init__(self, latency_ms=0, rate_limit=None, retry_after=False):
        self._lock = threading.Lock()
        self.latency_ms = int(latency_ms)
        # Auth0 documents the x-ratelimit-* headers; a 429 "may carry" Retry-After: off by default
        self.retry_after = bool(retry_after)
        self.rate_limit = None
        self.buckets = {}
        self.faults = []
        self.set_rate_limit(rate_limit)

    def set_rate_limit(self, rate_limit):
        """(rate, burst) or None to switch limiting off; fresh, full buckets."""
        with self._lock:
            self.rate_limit = rate_limit
            self.buckets = {} if rate_limit is None else {
                'management': TokenBucket(*rate_limit), 'token': TokenBucket(*rate_limit)}

    def bucket(self, kind):
        """The bucket for 'management' or 'token', or None when limiting is off."""
        with self._lock:
            return self.buckets.get(kind)

    def add_fault(self, fault):
        """Validate and queue a fault; return its public form."""
        if not isinstance(fault, dict):
            raise invalid_body('Expected type object')
        allowed = ('method', 'path', 'count', 'status', 'body', 'delay_ms', 'drop', 'lose_answer', 'headers', 'hold', 'after')
        extra = [k for k in fault if k not in allowed]
        if extra:
            raise invalid_body('Additional properties not allowed: %s' % ','.join(extra))
        try:
            pattern = re.compile(fault.get('path', '.*'))
        except (re.error, TypeError) as exc:
            raise invalid_body('path must be a regular expression: %s' % exc, 'path') from exc
        count = fault.get('count', 1)
        status = fault.get('status')
        if not isinstance(count, int) or count < 1:
            raise invalid_body('count must be a positive integer', 'count')
        if status is not None and (not isinstance(status, int) or not 100 <= status <= 599):
            raise invalid_body('status must be an HTTP status code', 'status')
        delay = fault.get('delay_ms', 0)
        if not isinstance(delay, (int, float)) or delay < 0:
            raise invalid_body('delay_ms must be a non-negative number', 'delay_ms')
        headers = fault.get('headers') or {}
        if not isinstance(headers, dict) or not all(isinstance(v, (str, int)) for v in headers.values()):
            raise invalid_body('headers must map names to strings', 'headers')
        after = fault.get('after', 0)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise invalid_body('after must be a non-negative integer', 'after')
        hold = fault.get('hold', 0)
        if not isinstance(hold, int) or isinstance(hold, bool) or hold < 0:
            raise invalid_body('hold must be a non-negative integer', 'hold')
        for key in ('drop', 'lose_answer'):
            if not isinstance(fault.get(key, False), bool):
                raise invalid_body('%s must be a boolean' % key, key)
        if fault.get('lose_answer') and (status is not None or fault.get('drop')):
            raise invalid_body('lose_answer applies the request and loses its answer: it takes no status and no drop', 'lose_answer')
        if status is None and not fault.get('drop') and not fault.get('lose_answer') and not delay and not hold:
            raise invalid_body('a fault needs status, drop, lose_answer, delay_ms or hold')
        method = fault.get('method')
        entry = {'method': method.upper() if isinstance(method, str) else None, 'path': pattern.pattern, 'count': count,
                 'status': status, 'body': fault.get('body'), 'delay_ms': delay, 'drop': bool(fault.get('drop')),
                 'lose_answer': bool(fault.get('lose_answer')),
                 'headers': {k: str(v) for k, v in headers.items()}, 'hold': hold, 'after': after, '_re': pattern,
                 '_gate': {'waiting': 0, 'open': None} if hold else None}
        with self._lock:
            self.faults.append(entry)
        return self.public_fault(entry)

    @staticmethod
    async def wait_at_gate(fault, timeout=30.0):
        """``hold: N``: keep each matching request until N of them have arrived (or ``timeout`` passed), then let
        them all through at once: two clients that both read before either writes, whatever their timing."""
        gate = fault.get('_gate')
        if not gate:
            return
        if gate['open'] is None:
            gate['open'] = asyncio.Event()
        gate['waiting'] += 1
        if gate['waiting'] >= fault['hold']:
            gate['open'].set()
            return
        try:
            await asyncio.wait_for(gate['open'].wait(), timeout)
        except asyncio.TimeoutError:
            pass

    @staticmethod
    def public_fault(entry):
        """A fault without its compiled pattern."""
        return {k: v for k, v in entry.items() if not k.startswith('_')}

    def list_faults(self):
        """Active faults, oldest first."""
        with self._lock:
            return [self.public_fault(f) for f in self.faults]

    def clear_faults(self):
        """Drop every fault."""
        with self._lock:
            self.faults = []

    def take_fault(self, method, path):
        """The first fault matching (method, path), its count decremented; None if none."""
        with self._lock:
            for entry in self.faults:
                if entry['method'] not in (None, method) or not entry['_re'].search(path):
                    continue
                if entry['after'] > 0:  # let this many matching requests through first
                    entry['after'] -= 1
                    return None
                entry['count'] -= 1
                if entry['count'] <= 0:
                    self.faults.remove(entry)
                return dict(entry)
        return None
