"""Writes a randomly initialised RWKV-7 (x070) checkpoint of a published shape in the official .pth layout.

    python3 scripts/make-random-rwkv7.py --shape 1.5b --dtype bf16 --out /tmp/rwkv7-1.5b-random.pth

For end-to-end runs on a GPU machine (scripts/gpu-smoke.sh): the numbers are plausible, not trained, so the text
is noise; the shapes, key names and file format are those of the published G1/World checkpoints.
"""
import argparse
import torch

SHAPES = {  # n_layer, n_embd, vocab, LoRA ranks (decay, a, v, gate): rag bench generator's Rwkv7Config.Published
    "0.1b": (12, 768, 65536, (64, 64, 32, 128)),
    "0.4b": (24, 1024, 65536, (64, 64, 64, 128)),
    "1.5b": (24, 2048, 65536, (96, 96, 64, 256)),
    "2.9b": (32, 2560, 65536, (96, 96, 64, 320)),
}

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="1.5b", choices=SHAPES)
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16", "fp32"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[args.dtype]
    L, C, V, (dw, da, dv, dg) = SHAPES[args.shape]
    H, N = C // 64, 64
    sd = {}
    def mat(*shape): return (torch.randn(*shape) * 0.02).to(dtype)
    def mix(): return torch.rand(1, 1, C).to(dtype)
    def ln(name):
        sd[name + ".weight"] = torch.ones(C, dtype=dtype)
        sd[name + ".bias"] = torch.zeros(C, dtype=dtype)
    sd["emb.weight"] = mat(V, C)
    ln("blocks.0.ln0")
    for i in range(L):
        p = f"blocks.{i}."
        ln(p + "ln1"); ln(p + "ln2"); ln(p + "att.ln_x")
        for m in ("x_r", "x_w", "x_k", "x_v", "x_a", "x_g", "w0", "a0", "v0", "k_k", "k_a"):
            sd[p + "att." + m] = mix()
        for name, rank in (("w", dw), ("a", da), ("v", dv), ("g", dg)):
            sd[p + f"att.{name}1"] = mat(C, rank)
            sd[p + f"att.{name}2"] = mat(rank, C)
        sd[p + "att.r_k"] = torch.rand(H, N).to(dtype)
        for lin in ("receptance", "key", "value", "output"):
            sd[p + f"att.{lin}.weight"] = mat(C, C)
        sd[p + "ffn.x_k"] = mix()
        sd[p + "ffn.key.weight"] = mat(4 * C, C)
        sd[p + "ffn.value.weight"] = mat(C, 4 * C)
    ln("ln_out")
    sd["head.weight"] = mat(V, C)
    torch.save(sd, args.out)
    print(f"{args.out}: {args.shape} {args.dtype}, {sum(t.numel() for t in sd.values()):,} parameters")

if __name__ == "__main__":
    main()
