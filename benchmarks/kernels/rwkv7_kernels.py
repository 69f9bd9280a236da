"""Checks and times src/Generator/Kernels/rwkv7.cu on a CUDA machine with PyTorch (no .NET needed).

Compiles the same source the product compiles (NVRTC through ctypes), launches it through the CUDA driver API
exactly as the C# runtime does (struct arguments, a state pointer table, graph capture on a stream of ours), and
compares every kernel with a float64 PyTorch reference on fresh random inputs. Then times the prefill WKV scan and
a whole synthetic decode step of a published shape.

    python3 benchmarks/kernels/rwkv7_kernels.py [--shape 1.5b] [--quick]
"""
import argparse, ctypes, glob, math, os, sys, time
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCE = os.path.join(ROOT, "src", "Generator", "Kernels", "rwkv7.cu")
SHAPES = {  # n_layer, C, V, ranks (decay, a, v, gate)
    "0.1b": (12, 768, 65536, (64, 64, 32, 128)),
    "0.4b": (24, 1024, 65536, (64, 64, 64, 128)),
    "1.5b": (24, 2048, 65536, (96, 96, 64, 256)),
    "2.9b": (32, 2560, 65536, (96, 96, 64, 320)),
}

# ---- driver API and NVRTC through ctypes -------------------------------------------------------------------
cuda = ctypes.CDLL("libcuda.so.1")
def check(result, what):
    if result != 0:
        name = ctypes.c_char_p()
        cuda.cuGetErrorString(result, ctypes.byref(name))
        raise RuntimeError(f"{what}: CUDA error {result} {name.value}")

def load_nvrtc():
    import torch as _t
    candidates = glob.glob(os.path.join(os.path.dirname(_t.__file__), "..", "nvidia", "*", "lib", "libnvrtc.so*"))
    candidates += glob.glob("/usr/local/cuda*/lib64/libnvrtc.so*")
    for path in sorted(candidates, key=len):
        if "builtins" in path: continue
        try: return ctypes.CDLL(path), path
        except OSError: pass
    raise RuntimeError("no libnvrtc found")

def compile_source(arch):
    nvrtc, path = load_nvrtc()
    src = open(SOURCE, "rb").read()
    prog = ctypes.c_void_p()
    assert nvrtc.nvrtcCreateProgram(ctypes.byref(prog), src, b"rwkv7.cu", 0, None, None) == 0
    opts = [f"--gpu-architecture=sm_{arch}".encode(), b"--std=c++17", b"-lineinfo", b"--ptxas-options=-v"]
    arr = (ctypes.c_char_p * len(opts))(*opts)
    res = nvrtc.nvrtcCompileProgram(prog, len(opts), arr)
    size = ctypes.c_size_t()
    nvrtc.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value)
    nvrtc.nvrtcGetProgramLog(prog, log)
    if res != 0:
        print(log.value.decode()); raise RuntimeError("NVRTC failed")
    if log.value.strip(): print("NVRTC log:", log.value.decode()[:6000])
    nvrtc.nvrtcGetCUBINSize(prog, ctypes.byref(size))
    cubin = ctypes.create_string_buffer(size.value)
    assert nvrtc.nvrtcGetCUBIN(prog, cubin) == 0
    major, minor = ctypes.c_int(), ctypes.c_int()
    nvrtc.nvrtcVersion(ctypes.byref(major), ctypes.byref(minor))
    print(f"NVRTC {major.value}.{minor.value} ({path}), cubin {size.value} bytes")
    return cubin

class Module:
    def __init__(self, cubin):
        self.module = ctypes.c_void_p()
        check(cuda.cuModuleLoadData(ctypes.byref(self.module), cubin), "cuModuleLoadData")
        self.functions = {}
    def fn(self, name):
        if name not in self.functions:
            f = ctypes.c_void_p()
            check(cuda.cuModuleGetFunction(ctypes.byref(f), self.module, name.encode()), name)
            self.functions[name] = f
        return self.functions[name]
    def launch(self, name, grid, block, args, stream=None, shared=0):
        params = (ctypes.c_void_p * len(args))(*[ctypes.cast(ctypes.pointer(a), ctypes.c_void_p) for a in args])
        if shared > 48 * 1024: check(cuda.cuFuncSetAttribute(self.fn(name), 8, shared), name)  # MAX_DYNAMIC_SHARED_SIZE_BYTES
        check(cuda.cuLaunchKernel(self.fn(name), grid, 1, 1, block, 1, 1, shared, stream, params, None), name)

P = ctypes.c_void_p
def ptr(t): return P(t.data_ptr()) if t is not None else P(0)

class WkvPrefillArgs(ctypes.Structure):
    _fields_ = [(n, P) for n in ("r", "logw", "k", "a", "b", "v", "state", "y")] + [("T", ctypes.c_int), ("H", ctypes.c_int)]
class EmbedArgs(ctypes.Structure):
    _fields_ = [("emb", P), ("tokens", P), ("x", P), ("C", ctypes.c_int)]
class ShiftMixArgs(ctypes.Structure):
    _fields_ = [("x", P), ("ln_w", P), ("ln_b", P), ("table", P), ("shift_slot", ctypes.c_int), ("mix", P), ("out", P),
                ("B", ctypes.c_int), ("C", ctypes.c_int), ("M", ctypes.c_int), ("out_half", ctypes.c_int)]
class GemvJob(ctypes.Structure):
    _fields_ = [("w", P), ("x", P), ("y", P), ("bias", P), ("n", ctypes.c_int), ("k", ctypes.c_int), ("act", ctypes.c_int), ("accumulate", ctypes.c_int), ("in_act", ctypes.c_int)]
class GemvArgs(ctypes.Structure):
    _fields_ = [("job", GemvJob * 8), ("count", ctypes.c_int), ("B", ctypes.c_int)]
class WkvDecodeArgs(ctypes.Structure):
    _fields_ = [(n, P) for n in ("r", "k", "v", "logw", "a", "g", "vres", "v_first", "k_k", "k_a", "r_k", "lnx_w", "lnx_b", "y", "table")] + \
               [("wkv_slot", ctypes.c_int), ("H", ctypes.c_int), ("y_type", ctypes.c_int)]
class ShiftMixPrefillArgs(ctypes.Structure):
    _fields_ = [(n, P) for n in ("x", "shift", "mix", "out")] + [(n, ctypes.c_int) for n in ("B", "T", "C", "M")]
class WkvInputsArgs(ctypes.Structure):
    _fields_ = [(n, P) for n in ("r", "k", "v", "w_lora", "a_lora", "v_lora", "v_first", "w0", "a0", "v0", "k_k", "k_a",
                                 "r_out", "logw", "k_out", "v_out", "a_out", "b_out")] + [("H", ctypes.c_int), ("heads", ctypes.c_int)]
class WkvOutputArgs(ctypes.Structure):
    _fields_ = [(n, P) for n in ("y", "r", "k", "v", "g", "r_k", "lnx_w", "lnx_b", "out")] + [("H", ctypes.c_int), ("heads", ctypes.c_int)]
class SquaredReluArgs(ctypes.Structure):
    _fields_ = [("h", P), ("out", P), ("n", ctypes.c_long)]
class SquaredReluInPlaceArgs(ctypes.Structure):
    _fields_ = [("h", P), ("n", ctypes.c_long)]
HEADS_PER_BLOCK = 8  # wkv_inputs, wkv_output: one (token, head) per warp (Rwkv7Kernels.cs)
def head_blocks(heads): return (heads + HEADS_PER_BLOCK - 1) // HEADS_PER_BLOCK

PREFILL_BLOCKS_PER_HEAD, PREFILL_THREADS, PREFILL_SHARED = 4, 512, 57600  # rwkv7.cu WROWS, WTHREADS, sizeof(WkvShared) (Rwkv7Kernels.cs)
SUFFIX = {torch.bfloat16: "bf16", torch.float16: "f16", torch.float32: "f32"}
ACT = {"none": 0, "tanh": 1, "sigmoid": 2, "relu2": 3, "logdecay": 4}

def rel(out, ref):
    out, ref = out.double(), ref.double()
    if not torch.isfinite(out).all(): return float("inf")
    return ((out - ref).norm() / ref.norm()).item()

def gemv_jobs(jobs, B):
    args = GemvArgs(); args.count = len(jobs); args.B = B
    for i, (w, x, y, bias, act, acc, *in_act) in enumerate(jobs):  # in_act: the input's activation, default none
        args.job[i] = GemvJob(ptr(w), ptr(x), ptr(y), ptr(bias), w.shape[0], w.shape[1], ACT[act], int(acc), ACT[in_act[0] if in_act else "none"])
    warps = sum(w.shape[0] for w, *_ in jobs)  # one warp per output row
    return args, (warps + 7) // 8

WIDE_K = 512  # GemvArgs.WideK
GEMM_MIN_BATCH = 8  # Rwkv7Decoder: from 8 sequences on, matrices whose width is a multiple of 32 go to the tensor cores

def launch_projections(mod, jobs, B, suffix, stream=None):
    """Like Rwkv7Decoder: gemv for few sequences, gemm (tensor cores) for many; returns the launch structs."""
    big = [j for j in jobs if B >= GEMM_MIN_BATCH and suffix != "f32" and j[0].shape[1] % 32 == 0]
    small = [j for j in jobs if all(j is not b for b in big)]
    launched = []
    if big:
        args, _ = gemv_jobs(big, B)
        mod.launch("gemm_" + suffix, sum((j[0].shape[0] + 15) // 16 for j in big), 128, [args], stream); launched.append(args)
    for wide in (False, True):  # rows from WIDE_K columns on go to gemv_wide; one sequence to gemv1
        group = [j for j in small if (j[0].shape[1] >= WIDE_K) == wide]
        if group:
            args, blocks = gemv_jobs(group, B)
            mod.launch(("gemv1" if B == 1 else "gemv") + ("_wide_" if wide else "_") + suffix, blocks, 256, [args], stream); launched.append(args)
    return launched

def act_ref(z, act):
    if act == "none": return z
    if act == "tanh": return z.tanh()
    if act == "sigmoid": return z.sigmoid()
    if act == "relu2": return z.relu() ** 2
    if act == "logdecay": return -(-torch.nn.functional.softplus(-z) - 0.5).exp()
    return z

def random_wkv_inputs(B, T, H, N=64, dtype=torch.float32):
    dev = "cuda"
    r = torch.randn(B, T, H, N, device=dev) * 0.5
    k = torch.randn(B, T, H, N, device=dev) * 0.5
    v = torch.randn(B, T, H, N, device=dev) * 0.5
    logw = -(-torch.nn.functional.softplus(-torch.randn(B, T, H, N, device=dev)) - 0.5).exp()
    kk = torch.nn.functional.normalize(torch.randn(B, T, H, N, device=dev), dim=-1)
    gate = torch.rand(B, T, H, N, device=dev)
    return r, logw, k, v, -kk, kk * gate

def wkv_reference(r, logw, k, v, a, b, S0):
    S = S0.double().clone(); w = logw.double().exp(); ys = []
    r, k, v, a, b = (t.double() for t in (r, k, v, a, b))
    for t in range(r.shape[1]):
        sa = S @ a[:, t, :, :, None]
        S = S * w[:, t, :, None, :] + sa @ b[:, t, :, None, :] + v[:, t, :, :, None] @ k[:, t, :, None, :]
        ys.append((S @ r[:, t, :, :, None]).squeeze(-1))
    return torch.stack(ys, 1), S

def main():
    ap = argparse.ArgumentParser(); ap.add_argument("--shape", default="1.5b"); ap.add_argument("--quick", action="store_true")
    ap.add_argument("--prefill-only", action="store_true", help="only time the prefill scan (e.g. under ncu)")
    opts = ap.parse_args()
    torch.manual_seed(0)
    torch.zeros(1, device="cuda")  # primary context current on this thread
    props = torch.cuda.get_device_properties(0)
    print(f"device: {props.name}, sm_{props.major}{props.minor}, {props.multi_processor_count} SMs; torch {torch.__version__}")
    t0 = time.time(); mod = Module(compile_source(f"{props.major}{props.minor}")); print(f"compile+load {time.time()-t0:.1f} s")
    results = []
    if opts.prefill_only:
        timings(mod, opts); return

    # ---- prefill WKV scan: exactness ----
    for (B, T, H, strongest) in [(2, 300, 2, False), (1, 1, 3, False), (1, 17, 1, False), (1, 200, 2, True)]:
        r, logw, k, v, a, b = random_wkv_inputs(B, T, H)
        if strongest: logw.fill_(-math.exp(-0.5))  # the clamp's strongest decay: the chunk's 1/Γ at its largest
        S0 = torch.randn(B, H, 64, 64, device="cuda") * 0.1
        state = S0.clone(); y = torch.full_like(r, float("nan"))
        args = WkvPrefillArgs(ptr(r), ptr(logw), ptr(k), ptr(a), ptr(b), ptr(v), ptr(state), ptr(y), T, H)
        mod.launch("wkv7_prefill", B * H * PREFILL_BLOCKS_PER_HEAD, PREFILL_THREADS, [args], shared=PREFILL_SHARED); torch.cuda.synchronize()
        y_ref, S_ref = wkv_reference(r, logw, k, v, a, b, S0)
        results.append((f"wkv7_prefill B{B} T{T} H{H}{' strongest decay' if strongest else ''} y", rel(y, y_ref), 1e-5))
        results.append((f"wkv7_prefill B{B} T{T} H{H}{' strongest decay' if strongest else ''} state", rel(state, S_ref), 1e-5))

    # ---- GEMV: every dtype, batch sizes, activations, several jobs in one launch ----
    for dtype in (torch.bfloat16, torch.float16, torch.float32):
        for B, kernel in ((1, "gemv_"), (5, "gemv_"), (64, "gemv_"), (1, "gemv_wide_"), (5, "gemv_wide_"), (64, "gemv_wide_"),
                          (1, "gemv1_"), (1, "gemv1_wide_")):
            jobs, refs = [], []
            for (n, kdim, act, acc, bias, *inner) in [(256, 512, "none", False, False), (64, 128, "tanh", False, False),
                                               (128, 64, "logdecay", False, True), (96, 256, "relu2", True, False),
                                               (42, 8, "sigmoid", False, True), (72, 64, "logdecay", False, True, "tanh"),
                                               (48, 768, "none", True, False)]:
                in_act = inner[0] if inner else "none"
                w = (torch.randn(n, kdim, device="cuda") * 0.05).to(dtype)
                x = torch.randn(B, kdim, device="cuda")
                y = torch.randn(B, n, device="cuda") if acc else torch.full((B, n), float("nan"), device="cuda")
                bb = torch.randn(n, device="cuda") if bias else None
                z = act_ref(x.double(), in_act) @ w.double().T + (bb.double() if bias else 0)
                refs.append((y, act_ref(z, act) + (y.double() if acc else 0)))
                jobs.append((w, x, y, bb, act, acc, in_act))
            args, blocks = gemv_jobs(jobs, B)
            mod.launch(kernel + SUFFIX[dtype], blocks, 256, [args]); torch.cuda.synchronize()
            worst = max(rel(y, ref) for y, ref in refs)
            results.append((f"{kernel}{SUFFIX[dtype]} B{B} (7 jobs, one with an input activation)", worst, 1e-5))

    # ---- GEMM on the tensor cores: inputs rounded to the weight type, so the reference rounds them too ----
    for dtype in (torch.bfloat16, torch.float16):
        for B in (8, 13, 64):
            jobs, refs = [], []
            for (n, kdim, act, acc, bias, *inner) in [(200, 512, "none", False, False), (64, 96, "logdecay", False, True, "tanh"),
                                               (96, 2048, "relu2", True, False), (37, 32, "sigmoid", False, True)]:
                in_act = inner[0] if inner else "none"
                w = (torch.randn(n, kdim, device="cuda") * 0.05).to(dtype)
                x = torch.randn(B, kdim, device="cuda")
                y = torch.randn(B, n, device="cuda") if acc else torch.full((B, n), float("nan"), device="cuda")
                bb = torch.randn(n, device="cuda") if bias else None
                z = act_ref(x.double(), in_act).to(dtype).double() @ w.double().T + (bb.double() if bias else 0)
                refs.append((y, act_ref(z, act) + (y.double() if acc else 0)))
                jobs.append((w, x, y, bb, act, acc, in_act))
            launch_projections(mod, jobs, B, SUFFIX[dtype]); torch.cuda.synchronize()
            results.append((f"gemm {SUFFIX[dtype]} B{B} (4 jobs, one with an input activation)", max(rel(y, ref) for y, ref in refs), 1e-5))

    # ---- shift_mix and embed ----
    for dtype in (torch.bfloat16, torch.float32):
        B, C, M = 3, 2048, 6
        x = torch.randn(B, C, device="cuda"); lw = torch.rand(C, device="cuda") + 0.5; lb = torch.randn(C, device="cuda") * 0.1
        shift = torch.randn(B, C, device="cuda").to(dtype); prev = shift.clone()
        mix = torch.rand(M, C, device="cuda"); out = torch.full((M, B, C), float("nan"), device="cuda")
        table = torch.tensor([shift.data_ptr()], dtype=torch.int64, device="cuda")
        mod.launch("shift_mix_" + SUFFIX[dtype], B, 1024, [ShiftMixArgs(ptr(x), ptr(lw), ptr(lb), ptr(table), 0, ptr(mix), ptr(out), B, C, M, 0)])
        torch.cuda.synchronize()
        xn = torch.nn.functional.layer_norm(x.double(), [C], lw.double(), lb.double(), 1e-5)
        ref = xn[None] + (prev.double() - xn)[None] * mix.double()[:, None, :]
        results.append((f"shift_mix {SUFFIX[dtype]}", rel(out, ref), 1e-5))
        results.append((f"shift_mix {SUFFIX[dtype]} state", rel(shift.double(), xn), 4e-3 if dtype != torch.float32 else 1e-6))
        if dtype != torch.float32:  # the cuBLAS path's 16-bit output, from the state the first launch left
            half = torch.full((M, B, C), float("nan"), device="cuda").to(dtype); prev = shift.clone()
            mod.launch("shift_mix_" + SUFFIX[dtype], B, 1024, [ShiftMixArgs(ptr(x), ptr(lw), ptr(lb), ptr(table), 0, ptr(mix), ptr(half), B, C, M, 1)])
            torch.cuda.synchronize()
            ref = xn[None] + (prev.double() - xn)[None] * mix.double()[:, None, :]
            results.append((f"shift_mix {SUFFIX[dtype]} 16-bit output", rel(half, ref), 4e-3))
            h = torch.randn(5, 1000, device="cuda"); sq = torch.full((5, 1000), float("nan"), device="cuda").to(dtype)
            mod.launch("squared_relu_" + SUFFIX[dtype], 4, 256, [SquaredReluArgs(ptr(h), ptr(sq), h.numel())]); torch.cuda.synchronize()
            results.append((f"squared_relu {SUFFIX[dtype]}", rel(sq, h.double().relu() ** 2), 4e-3))
        emb = torch.randn(100, C, device="cuda").to(dtype); tokens = torch.tensor([5, 99, 0], device="cuda")
        xe = torch.full((3, C), float("nan"), device="cuda")
        mod.launch("embed_" + SUFFIX[dtype], 3, 256, [EmbedArgs(ptr(emb), ptr(tokens), ptr(xe), C)])
        torch.cuda.synchronize()
        results.append((f"embed {SUFFIX[dtype]}", rel(xe, emb[tokens].float()), 1e-7))

    # ---- decode WKV with its fused tail ----
    for layer0 in (True, False):
        B, H = 3, 4; C = H * 64
        rnd = lambda *s: torch.randn(*s, device="cuda")
        r, k, v = rnd(B, C) * 0.5, rnd(B, C) * 0.5, rnd(B, C) * 0.5
        logw = -(-torch.nn.functional.softplus(-rnd(B, C)) - 0.5).exp()
        a, g, vres = torch.rand(B, C, device="cuda"), rnd(B, C), (None if layer0 else torch.rand(B, C, device="cuda"))
        v_first = rnd(B, C); v_first0 = v_first.clone()
        k_k, k_a, r_k = torch.rand(C, device="cuda"), torch.rand(C, device="cuda"), rnd(H, 64) * 0.1
        lnw, lnb = torch.rand(C, device="cuda") + 0.5, rnd(C) * 0.1
        S = rnd(B, H, 64, 64) * 0.1; S0 = S.clone(); y = torch.full((B, C), float("nan"), device="cuda")
        table = torch.tensor([0, S.data_ptr()], dtype=torch.int64, device="cuda")
        args = WkvDecodeArgs(*[ptr(t) for t in (r, k, v, logw, a, g, vres, v_first, k_k, k_a, r_k, lnw, lnb, y, table)], 1, H, 0)
        mod.launch("wkv7_decode", B * H, 64, [args]); torch.cuda.synchronize()
        # the same step again from the same state, y written in bf16 (the cuBLAS path's input)
        S_after = S.clone(); S.copy_(S0); v_first.copy_(v_first0); y16 = torch.full((B, C), float("nan"), device="cuda").to(torch.bfloat16)
        args16 = WkvDecodeArgs(*[ptr(t) for t in (r, k, v, logw, a, g, vres, v_first, k_k, k_a, r_k, lnw, lnb, y16, table)], 1, H, 1)
        mod.launch("wkv7_decode", B * H, 64, [args16]); torch.cuda.synchronize()
        d = lambda t: t.double()
        kk = torch.nn.functional.normalize(d(k * k_k).view(B, H, 64), dim=-1)
        km = d(k) * (1 + (d(a) - 1) * d(k_a))
        vv = d(v) if layer0 else d(v) + (d(v_first0) - d(v)) * d(vres)
        ah, bh = -kk, kk * d(a).view(B, H, 64)
        Sd = d(S0); sa = Sd @ ah[..., None]
        Sd = Sd * d(logw).exp().view(B, H, 1, 64) + sa @ bh[:, :, None, :] + vv.view(B, H, 64, 1) @ km.view(B, H, 1, 64)
        yy = (Sd @ d(r).view(B, H, 64, 1)).view(B, C)
        yy = torch.nn.functional.group_norm(yy, H, d(lnw), d(lnb), 64e-5)
        yy = (yy.view(B, H, 64) + (d(r) * km * d(r_k).view(1, C)).view(B, H, 64).sum(-1, keepdim=True) * vv.view(B, H, 64)).view(B, C) * d(g)
        results.append((f"wkv7_decode layer{'0' if layer0 else '>0'} y", rel(y, yy), 1e-5))
        results.append((f"wkv7_decode layer{'0' if layer0 else '>0'} y bf16", rel(y16, yy), 4e-3))
        results.append((f"wkv7_decode layer{'0' if layer0 else '>0'} state twice the same", rel(S, S_after.double()), 1e-7))
        results.append((f"wkv7_decode layer{'0' if layer0 else '>0'} state", rel(S, Sd), 1e-5))
        if layer0: results.append(("wkv7_decode v_first", rel(v_first, v), 1e-7))

    # ---- prefill around the scan: token shift + mixes, the scan's inputs, its output (as TimeMix forms them) ----
    for dtype in (torch.bfloat16, torch.float32):
        lim = 1e-5 if dtype == torch.float32 else 4e-3
        B, T, H = 2, 37, 3; C = H * 64; rnd = lambda *s: torch.randn(*s, device="cuda")  # B T H not a multiple of 8
        x = rnd(B, T, C).to(dtype); shift = rnd(B, C).to(dtype); prev_shift = shift.clone(); mix = torch.rand(6, C, device="cuda")
        out = torch.full((6, B, T, C), float("nan"), device="cuda").to(dtype)
        mod.launch("shift_mix_prefill_" + SUFFIX[dtype], B * T, min(256, C // 8), [ShiftMixPrefillArgs(ptr(x), ptr(shift), ptr(mix), ptr(out), B, T, C, 6)])
        torch.cuda.synchronize()
        xd = x.double(); previous = torch.cat([prev_shift.double()[:, None], xd[:, :-1]], 1)
        results.append((f"shift_mix_prefill {SUFFIX[dtype]}", rel(out, xd[None] + (previous - xd)[None] * mix.double()[:, None, None]), lim))
        h = torch.randn(3, 1000, device="cuda").to(dtype); h0 = h.double()
        mod.launch("squared_relu_in_place_" + SUFFIX[dtype], 2, 256, [SquaredReluInPlaceArgs(ptr(h), h.numel())]); torch.cuda.synchronize()
        results.append((f"squared_relu_in_place {SUFFIX[dtype]}", rel(h, h0.relu() ** 2), lim))
        for layer0 in (True, False):
            W_ = lambda *s: (rnd(*s) * 0.5).to(dtype)
            r, k, v, wl, al, g = W_(B, T, C), W_(B, T, C), W_(B, T, C), W_(B, T, C), W_(B, T, C), W_(B, T, C)
            vl = None if layer0 else W_(B, T, C)
            v_first = torch.zeros(B, T, C, device="cuda").to(dtype) if layer0 else W_(B, T, C)
            w0, a0, v0, k_k, k_a = rnd(C), rnd(C), rnd(C), torch.rand(C, device="cuda"), torch.rand(C, device="cuda")
            outs = [torch.full((B, T, H, 64), float("nan"), device="cuda") for _ in range(6)]
            args = WkvInputsArgs(*[ptr(t) for t in (r, k, v, wl, al, vl, v_first, w0, a0, v0, k_k, k_a, *outs)], H, B * T * H)
            mod.launch("wkv_inputs_" + SUFFIX[dtype], head_blocks(B * T * H), HEADS_PER_BLOCK * 32, [args]); torch.cuda.synchronize()
            d = lambda t: t.double()
            gate = torch.sigmoid(d(a0) + d(al))
            kk = torch.nn.functional.normalize((d(k) * d(k_k)).view(B, T, H, 64), dim=-1).view(B, T, C)
            km = d(k) * (1 + (gate - 1) * d(k_a))
            vv = d(v) if layer0 else d(v) + (d(v_first) - d(v)) * torch.sigmoid(d(v0) + d(vl))
            refs = [d(r), act_ref(d(w0) + d(wl), "logdecay"), km, vv, -kk, kk * gate]
            name = f"wkv_inputs {SUFFIX[dtype]} layer{'0' if layer0 else '>0'}"
            results.append((name, max(rel(o.view(B, T, C), ref) for o, ref in zip(outs, refs)), 1e-5))
            if layer0: results.append((name + " v_first", rel(v_first, d(v)), 1e-7))
            # the scan's output from its y and the inputs just made
            y = rnd(B, T, H, 64); r_k = rnd(H, 64) * 0.1; lnw, lnb = torch.rand(C, device="cuda") + 0.5, rnd(C) * 0.1
            o = torch.full((B, T, C), float("nan"), device="cuda").to(dtype)
            oargs = WkvOutputArgs(*[ptr(t) for t in (y, outs[0], outs[2], outs[3], g, r_k, lnw, lnb, o)], H, B * T * H)
            mod.launch("wkv_output_" + SUFFIX[dtype], head_blocks(B * T * H), HEADS_PER_BLOCK * 32, [oargs]); torch.cuda.synchronize()
            rr, kr, vr = (t.double().view(B, T, H, 64) for t in (outs[0], outs[2], outs[3]))
            yn = torch.nn.functional.group_norm(y.double().view(B * T, C), H, d(lnw), d(lnb), 64e-5).view(B, T, H, 64)
            ref = ((yn + (rr * kr * d(r_k)).sum(-1, keepdim=True) * vr).view(B, T, C)) * d(g)
            results.append((f"wkv_output {SUFFIX[dtype]} layer{'0' if layer0 else '>0'}", rel(o, ref), lim))

    print("\n| check | rel. error | limit | |\n| --- | --: | --: | --- |")
    failed = 0
    for name, err, limit in results:
        ok = err <= limit; failed += not ok
        print(f"| {name} | {err:.2e} | {limit:.0e} | {'PASS' if ok else 'FAIL'} |")
    timings(mod, opts)
    print(f"\n{len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)

PARTS = ["LayerNorm + shift + 6 mixes", "r, k, v and LoRA down-projections", "LoRA up-projections", "WKV step (+ GroupNorm, bonus, gate)",
         "output projection", "LayerNorm + shift (channel mix)", "FFN key (relu²)", "FFN value", "ln_out", "head"]

def graph_ms(build, stream, n=50):
    """Captures build(stream) as one CUDA graph and times a replay, ms."""
    torch.cuda.synchronize()
    check(cuda.cuStreamBeginCapture_v2(stream, 2), "begin capture")
    build(stream)
    graph = ctypes.c_void_p(); check(cuda.cuStreamEndCapture(stream, ctypes.byref(graph)), "end capture")
    exe = ctypes.c_void_p(); check(cuda.cuGraphInstantiateWithFlags(ctypes.byref(exe), graph, ctypes.c_ulonglong(0)), "instantiate")
    for _ in range(3): check(cuda.cuGraphLaunch(exe, stream), "graph launch")
    check(cuda.cuStreamSynchronize(stream), "sync")
    t0 = time.perf_counter()
    for _ in range(n): check(cuda.cuGraphLaunch(exe, stream), "graph launch")
    check(cuda.cuStreamSynchronize(stream), "sync"); ms = (time.perf_counter() - t0) / n * 1e3
    check(cuda.cuGraphExecDestroy(exe), "destroy"); check(cuda.cuGraphDestroy(graph), "destroy")
    return ms

def timings(mod, opts):
    L, C, V, (dw, da, dv, dg) = SHAPES[opts.shape]
    H, F = C // 64, 4 * C
    # ---- prefill WKV: one layer of 16k tokens ----
    T = 4096 if opts.quick else 16384
    r, logw, k, v, a, b = random_wkv_inputs(1, T, H)
    state = torch.zeros(1, H, 64, 64, device="cuda"); y = torch.empty_like(r)
    args = WkvPrefillArgs(ptr(r), ptr(logw), ptr(k), ptr(a), ptr(b), ptr(v), ptr(state), ptr(y), T, H)
    for _ in range(2): mod.launch("wkv7_prefill", H * PREFILL_BLOCKS_PER_HEAD, PREFILL_THREADS, [args], shared=PREFILL_SHARED)
    torch.cuda.synchronize(); t0 = time.perf_counter(); n = 5
    for _ in range(n): mod.launch("wkv7_prefill", H * PREFILL_BLOCKS_PER_HEAD, PREFILL_THREADS, [args], shared=PREFILL_SHARED)
    torch.cuda.synchronize(); ms = (time.perf_counter() - t0) / n * 1e3
    print(f"\nwkv7_prefill {opts.shape} (H={H}), one layer of {T} tokens: {ms:.2f} ms ({ms * 16384 / T:.2f} ms per 16k tokens)")
    del r, logw, k, v, a, b, y
    if opts.prefill_only: return

    # ---- the prefill's elementwise kernels around the scan and the projections: one layer of T tokens, bf16 ----
    def ms_per(launch, n=5):
        launch(); torch.cuda.synchronize(); t0 = time.perf_counter()
        for _ in range(n): launch()
        torch.cuda.synchronize(); return (time.perf_counter() - t0) / n * 1e3
    bf = torch.bfloat16; x16 = lambda *s: torch.randn(*s, device="cuda").to(bf); f32 = lambda *s: torch.randn(*s, device="cuda")
    x, shift, mix6 = x16(1, T, C), x16(1, C), torch.rand(6, C, device="cuda"); out6 = torch.empty(6, 1, T, C, device="cuda", dtype=bf)
    rows = [("shift_mix_prefill (6 mixes)", ms_per(lambda: mod.launch("shift_mix_prefill_bf16", T, min(256, C // 8), [ShiftMixPrefillArgs(ptr(x), ptr(shift), ptr(mix6), ptr(out6), 1, T, C, 6)])), 7 * T * C * 2)]
    hidden = x16(T, F)
    rows.append(("squared_relu_in_place", ms_per(lambda: mod.launch("squared_relu_in_place_bf16", min(8192, (T * F // 8 + 255) // 256), 256, [SquaredReluInPlaceArgs(ptr(hidden), hidden.numel())])), 2 * T * F * 2))
    ins = [x16(1, T, C) * 0.5 for _ in range(7)]; outs = [torch.empty(1, T, H, 64, device="cuda") for _ in range(6)]
    vecs = [torch.rand(C, device="cuda") for _ in range(5)]
    iargs = WkvInputsArgs(*[ptr(t) for t in (*ins, *vecs, *outs)], H, T * H)
    rows.append(("wkv_inputs", ms_per(lambda: mod.launch("wkv_inputs_bf16", head_blocks(T * H), HEADS_PER_BLOCK * 32, [iargs])), T * C * (7 * 2 + 6 * 4)))
    o = torch.empty(1, T, C, device="cuda", dtype=bf)
    oargs = WkvOutputArgs(*[ptr(t) for t in (f32(1, T, H, 64), outs[0], outs[2], outs[3], ins[0], vecs[0], vecs[1], vecs[2], o)], H, T * H)
    rows.append(("wkv_output", ms_per(lambda: mod.launch("wkv_output_bf16", head_blocks(T * H), HEADS_PER_BLOCK * 32, [oargs])), T * C * (4 * 4 + 2 * 2)))
    print(f"\nprefill elementwise kernels, {opts.shape}, one layer of {T} tokens (bf16)\n| kernel | ms | GB/s moved |\n| --- | --: | --: |")
    for name, ms, nbytes in rows: print(f"| {name} | {ms:.3f} | {nbytes / ms / 1e6:,.0f} |")
    del x, shift, out6, hidden, ins, outs, o

    # ---- decode: the whole model's step as one graph ----
    bf = torch.bfloat16
    def W(*s): return (torch.randn(*s, device="cuda") * 0.02).to(bf)
    def vec(*s): return torch.rand(*s, device="cuda")
    layers = []
    for l in range(L):
        layers.append(dict(ln1=(vec(C) + .5, vec(C) * .1), ln2=(vec(C) + .5, vec(C) * .1), mix=vec(6, C), ffn_mix=vec(1, C),
                           Wr=W(C, C), Wk=W(C, C), Wv=W(C, C), Wo=W(C, C), w1=W(dw, C), w2=W(C, dw), a1=W(da, C), a2=W(C, da),
                           v1=W(dv, C), v2=W(C, dv), g1=W(dg, C), g2=W(C, dg), w0=vec(C), a0=vec(C), v0=vec(C),
                           k_k=vec(C), k_a=vec(C), r_k=vec(H, 64) * .1, lnx=(vec(C) + .5, vec(C) * .1), Fk=W(F, C), Fv=W(C, F)))
    emb, head, ln_out = W(V, C), W(V, C), (vec(C) + .5, vec(C) * .1)
    stream = ctypes.c_void_p(); check(cuda.cuStreamCreate(ctypes.byref(stream), 1), "cuStreamCreate")
    print(f"\ndecode step on Rag's own projections (the product moves the wide ones to cuBLAS from 2 sequences: `rag bench generator`),"
          f" {opts.shape} shape (L{L} C{C} V{V}), bf16 weights, one CUDA graph per batch size")
    print("| batch | ms/step | tokens/s | weight bytes / step time |")
    print("| --: | --: | --: | --: |")
    weight_bytes = sum(t.numel() * t.element_size() for d in layers for t in d.values() if isinstance(t, torch.Tensor) and t.dtype == bf) + head.numel() * 2
    for B in (1, 4, 8, 16, 64):
        state = [(torch.zeros(B, C, device="cuda", dtype=bf), torch.zeros(B, H, 64, 64, device="cuda"), torch.zeros(B, C, device="cuda", dtype=bf)) for _ in range(L)]
        table = torch.tensor([t.data_ptr() for s in state for t in s], dtype=torch.int64, device="cuda")
        tokens = torch.randint(0, V, (B,), device="cuda")
        f32 = lambda *s: torch.zeros(*s, device="cuda")
        x, mixed, xk = f32(B, C), f32(6, B, C), f32(1, B, C)
        r_, k_, v_, hw, ha, hv, hg = f32(B, C), f32(B, C), f32(B, C), f32(B, dw), f32(B, da), f32(B, dv), f32(B, dg)
        logw, aa, vres, gg, vfirst, yy, hh, xo, logits = f32(B, C), f32(B, C), f32(B, C), f32(B, C), f32(B, C), f32(B, C), f32(B, F), f32(B, C), f32(B, V)
        keep = []
        def step(s, only=None):  # only: one part of every layer, to time it alone
            def want(part): return only is None or only == part
            if want("embed"): mod.launch("embed_bf16", B, 256, [EmbedArgs(ptr(emb), ptr(tokens), ptr(x), C)], s)
            for l, d in enumerate(layers):
                a1 = ShiftMixArgs(ptr(x), ptr(d["ln1"][0]), ptr(d["ln1"][1]), ptr(table), 3 * l, ptr(d["mix"]), ptr(mixed), B, C, 6, 0)
                if want(PARTS[0]): mod.launch("shift_mix_bf16", B, min(1024, C), [a1], s)
                xr, xw, xk_, xv, xa, xg = (mixed[i] for i in range(6))
                jobs = [(d["Wr"], xr, r_, None, "none", 0), (d["Wk"], xk_, k_, None, "none", 0), (d["Wv"], xv, v_, None, "none", 0),
                        (d["w1"], xw, hw, None, "none", 0), (d["a1"], xa, ha, None, "none", 0), (d["g1"], xg, hg, None, "none", 0)]
                if l > 0: jobs.append((d["v1"], xv, hv, None, "none", 0))
                if want(PARTS[1]): keep.extend(launch_projections(mod, jobs, B, "bf16", s))
                jobs = [(d["w2"], hw, logw, d["w0"], "logdecay", 0, "tanh"), (d["a2"], ha, aa, d["a0"], "sigmoid", 0), (d["g2"], hg, gg, None, "none", 0, "sigmoid")]
                if l > 0: jobs.append((d["v2"], hv, vres, d["v0"], "sigmoid", 0))
                if want(PARTS[2]): keep.extend(launch_projections(mod, jobs, B, "bf16", s))
                wk = WkvDecodeArgs(*[ptr(t) for t in (r_, k_, v_, logw, aa, gg, vres if l > 0 else None, vfirst, d["k_k"], d["k_a"], d["r_k"], d["lnx"][0], d["lnx"][1], yy, table)], 3 * l + 1, H, 0)
                if want(PARTS[3]): mod.launch("wkv7_decode", B * H, 64, [wk], s)
                if want(PARTS[4]): keep.extend(launch_projections(mod, [(d["Wo"], yy, x, None, "none", 1)], B, "bf16", s))
                a2 = ShiftMixArgs(ptr(x), ptr(d["ln2"][0]), ptr(d["ln2"][1]), ptr(table), 3 * l + 2, ptr(d["ffn_mix"]), ptr(xk), B, C, 1, 0)
                if want(PARTS[5]): mod.launch("shift_mix_bf16", B, min(1024, C), [a2], s)
                if want(PARTS[6]): keep.extend(launch_projections(mod, [(d["Fk"], xk[0], hh, None, "relu2", 0)], B, "bf16", s))
                if want(PARTS[7]): keep.extend(launch_projections(mod, [(d["Fv"], hh, x, None, "none", 1)], B, "bf16", s))
                keep.extend([a1, wk, a2])
            a3 = ShiftMixArgs(ptr(x), ptr(ln_out[0]), ptr(ln_out[1]), ptr(table), -1, P(0), ptr(xo), B, C, 1, 0)
            if want(PARTS[8]): mod.launch("shift_mix_bf16", B, min(1024, C), [a3], s)
            if want(PARTS[9]): keep.extend(launch_projections(mod, [(head, xo, logits, None, "none", 0)], B, "bf16", s))
            keep.append(a3)
        ms = graph_ms(step, stream)
        assert torch.isfinite(logits).all(), "non-finite logits"
        print(f"| {B} | {ms:.3f} | {B / ms * 1e3:,.0f} | {weight_bytes / (ms * 1e-3) / 1e12:.2f} TB/s |")
        if B == 1: parts = [(part, graph_ms(lambda s: step(s, part), stream)) for part in PARTS]
    d = layers[1]
    part_bytes = {PARTS[1]: L * sum(d[n].numel() * 2 for n in ("Wr", "Wk", "Wv", "w1", "a1", "g1", "v1")), PARTS[4]: L * C * C * 2,
                  PARTS[6]: L * F * C * 2, PARTS[7]: L * F * C * 2, PARTS[9]: V * C * 2}
    print(f"\nbatch-1 step by part: each part of all {L} layers alone in one graph (the parts overlap nothing, so they add up to about the step)")
    print("| part | ms per step | weights read at |\n| --- | --: | --: |")
    for part, ms in parts:
        print(f"| {part} | {ms:.3f} | {f'{part_bytes[part] / (ms * 1e-3) / 1e12:.2f} TB/s' if part in part_bytes else ''} |")
    a = torch.empty(2 * 1024**3 // 4, device="cuda"); b2 = torch.empty_like(a)
    for _ in range(3): b2.copy_(a)
    torch.cuda.synchronize(); t0 = time.perf_counter()
    for _ in range(10): b2.copy_(a)
    torch.cuda.synchronize(); bw = 2 * a.numel() * 4 * 10 / (time.perf_counter() - t0) / 1e12
    print(f"device-to-device copy: {bw:.2f} TB/s (read + write); weight-read floor for one step: {weight_bytes / bw / 1e9:.3f} ms ({weight_bytes / 1e9:.2f} GB)")

if __name__ == "__main__":
    main()
