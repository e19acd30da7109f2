# Varnish 7 edge cache in front of `livify serve`.
#
# - Caches anonymous GET and HEAD responses for as long as livify's
#   Cache-Control allows (s-maxage wins over max-age in Varnish).
# - Never caches, and never answers from cache, a request that carries
#   Authorization: its response may hold the caller's own flags.
# - Serves a stale copy for 30 s while it refetches, and for up to 5 min
#   while livify fails its health probe (stale-if-error).
# - Purges by surrogate key: livify sends `PURGE /` with a
#   `Surrogate-Key: article:12 author:3` header after each write, and every
#   cached object whose own Surrogate-Key lists one of them is banned.
#
# The backend address is the one `livify serve` listens on; change it here.

vcl 4.1;

import std;

backend livify {
    .host = "127.0.0.1";
    .port = "8000";
    .probe = {
        .url = "/livez";
        .interval = 2s;
        .timeout = 1s;
        .window = 3;
        .threshold = 2;
    }
}

# Only these addresses may purge. livify runs next to Varnish here; list
# the application hosts when they run elsewhere.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(405, "PURGE is not allowed from this address"));
        }
        # Keys are plain tokens, so they are safe inside the ban's regex.
        if (req.http.Surrogate-Key !~ "^[a-z0-9:]+( [a-z0-9:]+)*$") {
            return (synth(400, "Surrogate-Key must be space-separated [a-z0-9:] keys"));
        }
        # The ban reads only obj.*, so the ban lurker can apply it in the
        # background instead of on each lookup. The regex holds no spaces or
        # backslashes, which the ban parser would treat as separators and
        # escapes; a key ends at any character that cannot be part of one.
        if (!std.ban("obj.http.Surrogate-Key ~ (^|[^a-z0-9:])(" + regsuball(req.http.Surrogate-Key, " ", "|") + ")([^a-z0-9:]|$)")) {
            return (synth(500, std.ban_error()));
        }
        return (synth(200, "Purged"));
    }

    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }

    if (req.http.Authorization) {
        return (pass);
    }

    # Healthy backend: a short grace lets one request refetch while others
    # get the stale copy. Sick backend: serve what is left of the 5 min.
    if (std.healthy(req.backend_hint)) {
        set req.grace = 30s;
    }

    unset req.http.Cookie;
    return (hash);
}

sub vcl_backend_response {
    # Keep expired objects for 5 min (the stale-if-error window).
    set beresp.grace = 5m;

    if (bereq.http.Authorization || beresp.http.Cache-Control ~ "(private|no-store|no-cache)") {
        # Remember for a while that this URL is not cacheable (hit-for-miss),
        # so requests for it are not queued behind each other.
        set beresp.uncacheable = true;
        set beresp.ttl = 60s;
        return (deliver);
    }
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    # Browsers need neither the keys nor Varnish's own headers.
    unset resp.http.Surrogate-Key;
    unset resp.http.Via;
    unset resp.http.X-Varnish;
}
