#!/usr/bin/python3
"""Float64 reference relevance for AttnLRP and CP-LRP on a narrow torchvision ViT.

Usage (from the repository root):

    /usr/bin/python3 testdata/gen_vit.py                    # writes testdata/vit/
    /usr/bin/python3 testdata/gen_vit.py --lxt LXT --zennit ZENNIT_SRC
        # also cross-checks against LXT's own code (not committed: fetch
        # github.com/rachtibat/LRP-eXplains-Transformers and
        # github.com/chr5tphr/zennit (tag 0.5.1), pass their directories;
        # ZENNIT_SRC is zennit's src/ directory)

Needs Debian's python3-torch (1.13), python3-torchvision (0.14).

The model is torchvision.models.VisionTransformer(image_size=32, patch_size=8,
num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32, num_classes=4), trained
for a few hundred steps on a synthetic task (which quadrant holds the bright
square) so that it is not a random, ill-conditioned net.  It is exported to
vit.onnx (opset 17, free batch).  Relevance is computed here by an explicit
layer-by-layer implementation of the rules in float64 (written from the
papers, not from the Go code):

  * ε rule on linear layers and the patch convolution (Bach et al. 2015):
        R_in = x ⊙ Wᵀ (R / stab(z)),  stab(z) = z + ε·sign(z), sign(0) = 1;
  * γ rule, generalized (Andéol et al. 2021), as Zennit 0.5.1's Gamma:
        z± = ρ±(W)x⁺ + ρ∓(W)x⁻ + ρ±(b), ρ±(w) = w + γ·w^±,
        s± = [z ≷ 0] R / stab(z±),  R_in = x⁺⊙(ρ⁺ᵀs⁺ + ρ⁻ᵀs⁻) + x⁻⊙(ρ⁻ᵀs⁺ + ρ⁺ᵀs⁻);
  * softmax (AttnLRP Prop. 3.1): R_in = x ⊙ (R − s ⊙ Σ_j R_j);
  * uniform ε rule on the product of two activations (AttnLRP Prop. 3.3):
        R_A = ½ A ⊙ (S Bᵀ), R_B = ½ B ⊙ (Aᵀ S), S = R / stab(AB);
  * identity on GELU (R_in = R) and on LayerNorm's 1/σ (AttnLRP Prop. 3.4),
    ε rule on its centring and affine parts, which together give
        R_in = x ⊙ Jᵀ (R / stab(y)),  J = ∂y/∂x with σ held constant;
  * CP-LRP (Ali et al. 2022): the attention weights are constants: no
    relevance into the softmax, R_V = V ⊙ (Aᵀ S) for softmax(·)·V;
  * residual and position-embedding additions: R_a = a ⊙ R / stab(a + b);
    scaling by 1/√d passes R; the class token (a parameter) absorbs what
    reaches it; selecting it routes R.
All stabilizers are 1e-6 (environment REF_EPS overrides those of every rule but
Zennit's γ, for the cross-check below; the committed goldens use 1e-6).  Relevance starts at the target logit
(one-hot × logit).

With --lxt, CP-LRP with γ is also computed by LXT's efficient patches for
torchvision's ViT (lxt/efficient/models/vit_torch.py) with Zennit's Gamma on
every Conv2d and Linear module, relevance = input × gradient, exactly as
LXT's examples/vit_torch.py; the script asserts agreement with the
reference (torchvision's MultiheadAttention calls F.linear on in_proj and
out_proj, which Zennit does not hook: LXT leaves them to the gradient, LRP-0,
and so does the reference and the cp-lrp composite).
"""

import argparse
import copy
import importlib
import json
import os
import sys
import types
import warnings

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

torch.set_num_threads(1)
warnings.filterwarnings("ignore")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vit")
EPS = float(os.environ.get("REF_EPS", "1e-6"))
GAMMA_STAB = 1e-6  # Zennit's Gamma stabilizer, also with --check-eps
CFG = dict(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32, num_classes=4)


def synthetic(n, g):
    """Images with a bright 8x8 square in one of four quadrants (the label)."""
    x = 0.3 * torch.randn(n, 3, 32, 32, generator=g)
    y = torch.randint(0, 4, (n,), generator=g)
    for i in range(n):
        r, c = divmod(int(y[i]), 2)
        dr, dc = torch.randint(0, 9, (2,), generator=g).tolist()
        x[i, :, 16 * r + dr:16 * r + dr + 8, 16 * c + dc:16 * c + dc + 8] += 1.5
    return x, y


def train():
    torch.manual_seed(0)
    m = torchvision.models.VisionTransformer(**CFG)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():  # torchvision zero-inits the head and class token
        m.heads.head.weight.normal_(0, 0.2, generator=g)
        m.class_token.normal_(0, 0.2, generator=g)
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    m.train()
    for step in range(300):
        x, y = synthetic(32, g)
        loss = F.cross_entropy(m(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    m.eval()
    x, y = synthetic(256, g)
    with torch.no_grad():
        acc = (m(x).argmax(1) == y).float().mean().item()
    return m, acc


def stab(z, eps=None):
    eps = EPS if eps is None else eps
    return z + eps * torch.where(z >= 0, torch.ones_like(z), -torch.ones_like(z))


def ratio(r, z):
    return r / stab(z)


def grad_of(f, x, s):
    """(∂f/∂x)ᵀ s for a function f that is linear in x."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        y = f(x)
        (g,) = torch.autograd.grad(y, x, s)
    return g


def affine_rule(f, x, w, b, r, rule):
    """ε or γ rule for y = f(x, w, b), f affine in x (linear or conv)."""
    kind, p = rule
    if kind == "epsilon" or kind == "zero":
        eps = EPS if kind == "zero" else p
        z = f(x, w, b)
        s = r / (z + eps * torch.where(z >= 0, torch.ones_like(z), -torch.ones_like(z)))
        return x * grad_of(lambda u: f(u, w, None), x, s)
    gamma = p
    rp = lambda t: None if t is None else t + gamma * t.clamp(min=0)
    rn = lambda t: None if t is None else t + gamma * t.clamp(max=0)
    xp, xn = x.clamp(min=0), x.clamp(max=0)
    z = f(x, w, b)
    zp = f(xp, rp(w), rp(b)) + f(xn, rn(w), None)
    zn = f(xp, rn(w), rn(b)) + f(xn, rp(w), None)
    sp = torch.where(z > 0, r / stab(zp, GAMMA_STAB), torch.zeros_like(r))
    sn = torch.where(z < 0, r / stab(zn, GAMMA_STAB), torch.zeros_like(r))
    gpp = grad_of(lambda u: f(u, rp(w), None), x, sp)
    gnn = grad_of(lambda u: f(u, rn(w), None), x, sn)
    gnp = grad_of(lambda u: f(u, rn(w), None), x, sp)
    gpn = grad_of(lambda u: f(u, rp(w), None), x, sn)
    return xp * (gpp + gnn) + xn * (gnp + gpn)


def layer_norm_identity(ln, x, r):
    def f(u):
        mean = u.mean(-1, keepdim=True)
        std = ((x - x.mean(-1, keepdim=True)) ** 2).mean(-1, keepdim=True).add(ln.eps).sqrt()
        return (u - mean) / std * ln.weight
    y = F.layer_norm(x, (x.shape[-1],), ln.weight, ln.bias, ln.eps)
    return x * grad_of(f, x, ratio(r, y))


def explain(m, x, targets, linear, cp, attn_proj=None):
    """Reference relevance at the input; linear = ("epsilon", e) | ("gamma", g)."""
    attn_proj = attn_proj or linear
    n = x.shape[0]
    D, H = m.hidden_dim, m.encoder.layers[0].self_attention.num_heads
    dh = D // H
    conv = lambda u, w, b: F.conv2d(u, w, b, stride=m.patch_size)
    lin = lambda u, w, b: F.linear(u, w, b)
    # Forward, keeping what the rules read.
    p = conv(x, m.conv_proj.weight, m.conv_proj.bias)
    tokens = p.reshape(n, D, -1).permute(0, 2, 1)
    cls = m.class_token.expand(n, -1, -1)
    z0 = torch.cat([cls, tokens], 1)
    z = z0 + m.encoder.pos_embedding
    acts = []
    for blk in m.encoder.layers:
        a = {}
        a["z"] = z
        a["ln1"] = blk.ln_1(z)
        mha = blk.self_attention
        qkv = lin(a["ln1"], mha.in_proj_weight, mha.in_proj_bias)
        S = z.shape[1]
        q, k, v = qkv.split(D, -1)
        heads = lambda t: t.reshape(n, S, H, dh).permute(0, 2, 1, 3)
        a["qkv"] = qkv
        a["q"], a["k"], a["v"] = heads(q) / dh ** 0.5, heads(k), heads(v)
        a["scores"] = a["q"] @ a["k"].transpose(-1, -2)
        a["att"] = a["scores"].softmax(-1)
        a["o"] = a["att"] @ a["v"]
        a["o2"] = a["o"].permute(0, 2, 1, 3).reshape(n, S, D)
        a["attn_out"] = lin(a["o2"], mha.out_proj.weight, mha.out_proj.bias)
        a["z1"] = z + a["attn_out"]
        a["ln2"] = blk.ln_2(a["z1"])
        a["h1"] = lin(a["ln2"], blk.mlp[0].weight, blk.mlp[0].bias)
        a["g"] = F.gelu(a["h1"])
        a["h2"] = lin(a["g"], blk.mlp[3].weight, blk.mlp[3].bias)
        z = a["z1"] + a["h2"]
        a["out"] = z
        acts.append(a)
    zf = m.encoder.ln(z)
    c = zf[:, 0]
    logits = lin(c, m.heads.head.weight, m.heads.head.bias)
    # Backward.
    r = torch.zeros_like(logits)
    r[torch.arange(n), targets] = logits[torch.arange(n), targets]
    r_c = affine_rule(lin, c, m.heads.head.weight, m.heads.head.bias, r, linear)
    r_zf = torch.zeros_like(zf)
    r_zf[:, 0] = r_c
    rz = layer_norm_identity(m.encoder.ln, z, r_zf)
    for blk, a in reversed(list(zip(m.encoder.layers, acts))):
        mha = blk.self_attention
        # z = z1 + h2
        s = ratio(rz, a["out"])
        r_z1, r_h2 = a["z1"] * s, a["h2"] * s
        r_g = affine_rule(lin, a["g"], blk.mlp[3].weight, blk.mlp[3].bias, r_h2, linear)
        r_h1 = r_g  # identity on GELU
        r_ln2 = affine_rule(lin, a["ln2"], blk.mlp[0].weight, blk.mlp[0].bias, r_h1, linear)
        r_z1 = r_z1 + layer_norm_identity(blk.ln_2, a["z1"], r_ln2)
        # z1 = z + attn_out
        s = ratio(r_z1, a["z1"])
        r_z, r_ao = a["z"] * s, a["attn_out"] * s
        r_o2 = affine_rule(lin, a["o2"], mha.out_proj.weight, mha.out_proj.bias, r_ao, attn_proj)
        S = a["z"].shape[1]
        r_o = r_o2.reshape(n, S, H, dh).permute(0, 2, 1, 3)
        so = ratio(r_o, a["o"])
        if cp:
            r_att = None
            r_v = a["v"] * (a["att"].transpose(-1, -2) @ so)
            r_q = torch.zeros_like(a["q"])
            r_k = torch.zeros_like(a["k"])
        else:
            r_att = 0.5 * a["att"] * (so @ a["v"].transpose(-1, -2))
            r_v = 0.5 * a["v"] * (a["att"].transpose(-1, -2) @ so)
            sc = a["scores"]
            r_sc = sc * (r_att - a["att"] * r_att.sum(-1, keepdim=True))
            ss = ratio(r_sc, sc)
            r_q = 0.5 * a["q"] * (ss @ a["k"])
            r_k = 0.5 * a["k"] * (ss.transpose(-1, -2) @ a["q"])
        unheads = lambda t: t.permute(0, 2, 1, 3).reshape(n, S, D)
        r_qkv = torch.cat([unheads(r_q), unheads(r_k), unheads(r_v)], -1)
        r_ln1 = affine_rule(lin, a["ln1"], mha.in_proj_weight, mha.in_proj_bias, r_qkv, attn_proj)
        rz = r_z + layer_norm_identity(blk.ln_1, a["z"], r_ln1)
    # z = z0 + pos (constant): R_z0 = z0 ⊙ R / stab(z)
    r_z0 = z0 * ratio(rz, z0 + m.encoder.pos_embedding)
    r_tokens = r_z0[:, 1:]
    r_p = r_tokens.permute(0, 2, 1).reshape(p.shape)
    return affine_rule(conv, x, m.conv_proj.weight, m.conv_proj.bias, r_p, linear), logits


def lxt_cp_gamma(m, x, targets, gamma, lxt_dir, zennit_src):
    """CP-LRP with Zennit's Gamma, computed by LXT's own patches."""
    sys.path.insert(0, zennit_src)
    pkg = types.ModuleType("lxt")
    pkg.__path__ = [os.path.join(lxt_dir, "lxt")]
    eff = types.ModuleType("lxt.efficient")
    eff.__path__ = [os.path.join(lxt_dir, "lxt", "efficient")]
    mods = types.ModuleType("lxt.efficient.models")
    mods.__path__ = [os.path.join(lxt_dir, "lxt", "efficient", "models")]
    # The packages' __init__ files import LXT's LLM patches, which need
    # transformers: load the ViT modules without them.
    sys.modules.update({"lxt": pkg, "lxt.efficient": eff, "lxt.efficient.models": mods})
    vit_patches = importlib.import_module("lxt.efficient.models.vit_torch")
    zp = importlib.import_module("lxt.efficient.zennit_patches")
    from torchvision.models import vision_transformer
    for cls, patch in vit_patches.cp_LRP.items():
        patch(cls)
    zp.monkey_patch_zennit()
    from zennit.composites import LayerMapComposite
    import zennit.rules as z_rules
    mm = copy.deepcopy(m)
    for prm in mm.parameters():
        prm.requires_grad = False
    comp = LayerMapComposite([(torch.nn.Conv2d, z_rules.Gamma(gamma)), (torch.nn.Linear, z_rules.Gamma(gamma))])
    comp.register(mm)
    xx = x.clone().requires_grad_(True)
    y = mm(xx)
    y[torch.arange(len(targets)), targets].sum().backward()
    comp.remove()
    return (xx * xx.grad).detach()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lxt")
    ap.add_argument("--zennit")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    m, acc = train()
    g = torch.Generator().manual_seed(5)
    x, labels = synthetic(2, g)
    torch.onnx.export(m, x, os.path.join(OUT, "vit.onnx"), opset_version=17, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    np.save(os.path.join(OUT, "input.npy"), x.numpy())
    m64 = copy.deepcopy(m).double()
    x64 = x.double()
    with torch.no_grad():
        logits = m64(x64)
    targets = logits.argmax(1)
    np.save(os.path.join(OUT, "logits.npy"), logits.numpy().astype(np.float32))
    configs = [
        ("attnlrp", {}, ("epsilon", 1e-6), False, None),
        ("attnlrp", {"epsilon": 0.01}, ("epsilon", 0.01), False, None),
        ("attnlrp", {"gamma": 0.25}, ("gamma", 0.25), False, None),
        ("cp-lrp", {"gamma": 0.25}, ("gamma", 0.25), True, ("zero", 0)),
        ("cp-lrp", {"epsilon": 1e-6}, ("epsilon", 1e-6), True, None),
    ]
    goldens = []
    with torch.no_grad():
        for name, params, linear, cp, proj in configs:
            rel, lg = explain(m64, x64, targets, linear, cp, proj)
            assert torch.allclose(lg, logits, atol=1e-9), "reference forward differs from torchvision"
            tag = name + "".join(f"_{k}{v}" for k, v in params.items())
            np.save(os.path.join(OUT, tag + ".npy"), rel.numpy().astype(np.float32))
            goldens.append(dict(composite=name, params=params, relevance=tag + ".npy"))
            print(tag, "sum R", rel.sum((1, 2, 3)).tolist(), "logit", logits[torch.arange(2), targets].tolist())
    if args.lxt:
        ref, _ = explain(m64, x64, targets, ("gamma", 0.25), True, ("zero", 0))
        got = lxt_cp_gamma(m64, x64, targets, 0.25, args.lxt, args.zennit)
        d = (got - ref).abs().max() / ref.abs().max()
        print("LXT cp-lrp gamma 0.25 vs reference (stabilizer %g): max rel diff %.3g" % (EPS, d))
        # LXT's gradient×input form divides by no activation; the
        # reference's ratios stabilized by EPS part from it near zero
        # activations, by 1.6e-4 of max |R| with EPS = 1e-6 on this model.
        # With REF_EPS=1e-13 the two agree to rounding.
        assert d < (1e-8 if EPS < 1e-10 else 1e-3), "reference disagrees with LXT"
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(dict(onnx="vit.onnx", input="input.npy", logits="logits.npy", targets=targets.tolist(),
                       config=CFG, train_accuracy=acc, goldens=goldens,
                       tolerance="max |R_go - R_ref| <= 1e-4 * max |R_ref|"), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
