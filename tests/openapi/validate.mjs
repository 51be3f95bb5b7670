// Checks the answers the black-box API suite recorded (tests/api/harness.py,
// RUNNEL_API_RECORD) against the OpenAPI description runneld serves.
//
//   node validate.mjs OPENAPI.json DIR...
//
// First the document itself against the OpenAPI 3.1 schema; then every
// recorded exchange: its status must be declared for the operation (or a
// `default`), its content type among the status's media types, and a JSON
// body must validate against the declared schema (ajv, JSON Schema
// 2020-12).  Answers the spec cannot type (event streams, octet streams,
// metrics text) are checked by content type only.  A request to a path or
// method the spec does not have must have been refused with an Error body;
// HEAD is checked as GET without a body, OPTIONS (a CORS preflight, any
// path) must be 204 or a refusal.
// Prints each mismatch and exits 1 if there is any, or if nothing was
// recorded at all (the recording is broken then).
import fs from "node:fs";
import path from "node:path";

import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { Validator } from "@seriousme/openapi-schema-validator";

const BASE = "https://runnel.invalid/openapi.json";
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const MAX_REPORTS_PER_KIND = 5;

function die(msg) {
	console.error("openapi.answers: " + msg);
	process.exit(1);
}

function pointerEscape(s) {
	return s.replace(/~/g, "~0").replace(/\//g, "~1");
}

function resolve(spec, obj) {
	while (obj && obj.$ref && obj.$ref.startsWith("#/")) {
		let cur = spec;
		for (const part of obj.$ref.slice(2).split("/"))
			cur = cur[part.replace(/~1/g, "/").replace(/~0/g, "~")];
		obj = cur;
	}
	return obj;
}

// A path template to a regular expression: "{id}" is one segment.
function templateRegex(tpl) {
	const src = tpl.split(/(\{[^}]+\})/).map((p) =>
		p.startsWith("{") ? "[^/]+" : p.replace(/[.*+?^$()|[\]\\]/g, "\\$&")).join("");
	return new RegExp("^" + src + "$");
}

function mediaBase(ct) {
	return (ct || "").split(";")[0].trim().toLowerCase();
}

async function main() {
	const [specPath, ...dirs] = process.argv.slice(2);
	if (!specPath || dirs.length === 0)
		die("usage: node validate.mjs OPENAPI.json DIR...");
	const spec = JSON.parse(fs.readFileSync(specPath, "utf8"));

	// ---- the document itself ----
	const docCheck = await new Validator().validate(spec);
	if (!docCheck.valid) {
		console.error(JSON.stringify(docCheck.errors, null, 2));
		die(specPath + " is not a valid OpenAPI 3.1 document");
	}
	if (!/^3\.1\.\d+$/.test(spec.openapi))
		die("openapi is " + spec.openapi + ", not 3.1.x");

	const ajv = new Ajv2020({ strict: false, allErrors: true });
	addFormats(ajv);
	ajv.addSchema(spec, BASE);
	const compiled = new Map();
	function validatorAt(pointer) {
		if (!compiled.has(pointer))
			compiled.set(pointer, ajv.compile({ $ref: BASE + "#" + pointer }));
		return compiled.get(pointer);
	}
	const errorPointer = "/components/schemas/Error";
	validatorAt(errorPointer);	// compiles every schema it reaches

	const templates = Object.keys(spec.paths).map((t) => ({ t, re: templateRegex(t) }));
	function findPath(p) {
		// literal templates before ones with captures, as the routes do
		const hits = templates.filter((x) => x.re.test(p));
		hits.sort((a, b) => (a.t.includes("{") ? 1 : 0) - (b.t.includes("{") ? 1 : 0));
		return hits.length ? hits[0].t : null;
	}

	// ---- the records ----
	const records = [];
	for (const dir of dirs) {
		if (!fs.existsSync(dir))
			continue;
		for (const name of fs.readdirSync(dir).sort()) {
			if (!name.endsWith(".jsonl"))
				continue;
			const lines = fs.readFileSync(path.join(dir, name), "utf8").split("\n");
			lines.forEach((line, i) => {
				if (!line.trim())
					return;
				try {
					records.push({ ...JSON.parse(line), where: name + ":" + (i + 1) });
				} catch (e) {
					// a line cut by a killed test process: not an answer
					if (i !== lines.length - 1 && lines[i + 1] !== "")
						die(name + ":" + (i + 1) + ": not JSON: " + e.message);
				}
			});
		}
	}
	if (records.length === 0)
		die("no recorded answers in " + dirs.join(", ") + ": run the api.* tests " +
		    "first (RUNNEL_API_RECORD must reach tests/api/harness.py)");

	const problems = new Map();	// kind -> [messages]
	const stats = { bodies: 0, typedOnly: 0, skippedBig: 0, refused: 0 };
	function problem(r, what) {
		const kind = r.method + " " + (r.template || r.path) + " " + r.status + ": " + what;
		if (!problems.has(kind))
			problems.set(kind, []);
		problems.get(kind).push(r.where + " " + r.method + " " + r.path +
		    (r.query ? "?" + r.query.slice(0, 120) : ""));
	}
	function checkBody(r, pointer) {
		if (r.body_invalid !== undefined) {
			problem(r, "the body is not JSON: " + r.body_invalid);
			return;
		}
		if (r.body_skipped) {
			stats.skippedBig++;
			return;
		}
		if (r.body === undefined)
			return;
		const v = validatorAt(pointer);
		if (!v(r.body)) {
			const errs = v.errors.slice(0, 4).map((e) =>
				(e.instancePath || "/") + " " + e.message +
				(e.params && Object.keys(e.params).length ? " " + JSON.stringify(e.params) : ""));
			problem(r, "schema " + pointer + ": " + errs.join("; "));
			return;
		}
		stats.bodies++;
	}
	function checkRefused(r, why) {
		// not an operation of the spec: a refusal with the Error body
		stats.refused++;
		if (r.status < 400) {
			problem(r, why + " answered " + r.status);
			return;
		}
		if (mediaBase(r.content_type) !== "application/json") {
			problem(r, why + ": the refusal is " + r.content_type + ", not JSON");
			return;
		}
		checkBody(r, errorPointer);
	}

	for (const r of records) {
		const method = r.method.toLowerCase() === "head" ? "get" : r.method.toLowerCase();
		const tpl = findPath(r.path);
		r.template = tpl;
		if (r.method === "OPTIONS") {
			// a CORS preflight, on any path (the spec's info says so):
			// 204 and no body, or a refusal
			if (r.status === 204 && r.body === undefined)
				continue;
			checkRefused(r, "a preflight");
			continue;
		}
		if (tpl === null) {
			// outside the API the dashboard's files are served: untyped
			if (!r.path.startsWith("/api/") && r.status < 400) {
				stats.typedOnly++;
				continue;
			}
			checkRefused(r, "no such path in the spec");
			continue;
		}
		const item = spec.paths[tpl];
		if (!METHODS.includes(method) || !item[method]) {
			checkRefused(r, "no such method in the spec");
			continue;
		}
		const responses = item[method].responses;
		const key = responses[String(r.status)] ? String(r.status) :
		    responses[String(r.status)[0] + "XX"] ? String(r.status)[0] + "XX" :
		    responses.default ? "default" : null;
		if (key === null) {
			problem(r, "status not declared (declared: " +
			    Object.keys(responses).join(", ") + ")");
			continue;
		}
		const resp = resolve(spec, responses[key]);
		const respPointer = resp === responses[key] ?
		    "/paths/" + pointerEscape(tpl) + "/" + method + "/responses/" + key :
		    responses[key].$ref.slice(1);
		const base = mediaBase(r.content_type);
		const hasBody = r.body !== undefined || r.body_invalid !== undefined ||
		    r.body_skipped !== undefined;
		if (!resp.content) {
			if (hasBody)
				problem(r, "a body (" + r.content_type + ") where the spec declares none");
			continue;
		}
		if (r.method === "HEAD" || (!hasBody && base === ""))
			continue;
		if (!resp.content[base]) {
			problem(r, "content type " + r.content_type + " not declared (declared: " +
			    Object.keys(resp.content).join(", ") + ")");
			continue;
		}
		if (base !== "application/json") {
			stats.typedOnly++;
			continue;
		}
		if (!resp.content[base].schema) {
			problem(r, "no schema declared for " + base);
			continue;
		}
		checkBody(r, respPointer + "/content/" + pointerEscape(base) + "/schema");
	}

	let n = 0;
	for (const [kind, where] of problems) {
		n += where.length;
		console.error("MISMATCH " + kind);
		for (const w of where.slice(0, MAX_REPORTS_PER_KIND))
			console.error("    " + w);
		if (where.length > MAX_REPORTS_PER_KIND)
			console.error("    ... and " + (where.length - MAX_REPORTS_PER_KIND) + " more");
	}
	console.log("openapi.answers: " + records.length + " answers recorded; " +
	    stats.bodies + " JSON bodies validated, " + stats.typedOnly +
	    " checked by content type only, " + stats.refused + " refusals of " +
	    "paths or methods the spec does not have, " + stats.skippedBig +
	    " bodies too big to record; " + n + " mismatches (" + problems.size + " kinds)");
	process.exit(n ? 1 : 0);
}

main().catch((e) => die(e.stack || String(e)));
