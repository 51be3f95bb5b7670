-- wrk script: one command job per request (durable enqueue).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"command":"true","queue":"bench"}'
