package torchvision

import (
	"math"
	"strconv"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// vitBuilder lays out torchvision's VisionTransformer (vit_b_16, vit_b_32):
//
//	conv_proj (Conv2d p×p, stride p) → N×D×(H/p)×(W/p) → tokens N×T×D,
//	class_token prepended, + encoder.pos_embedding, encoder.dropout,
//	encoder.layers.encoder_layer_i: x + dropout(self_attention(ln_1(x))),
//	  then x + mlp(ln_2(x)) (mlp.0 Linear, mlp.1 GELU, mlp.2 Dropout,
//	  mlp.3 Linear, mlp.4 Dropout),
//	encoder.ln, the class token x[:, 0], heads.head.
//
// self_attention is nn.MultiheadAttention: in_proj (in_proj_weight,
// in_proj_bias, a 3D×D linear map that is not a module), heads of width
// D/heads, q/√(D/heads) · kᵀ, softmax, · v, then out_proj. Widths (D, the
// MLP's, the number of layers and classes, the image size from
// pos_embedding) come from the state; the state does not hold the number
// of heads, which is D/64 (12 for ViT-B, 16 for ViT-L).
func vitBuilder(patch, defLayers int) func(b *builder) { return vitLayout(patch, defLayers, 0) }

// vitLayout is vitBuilder with the number of heads given (0: D/64), for
// narrow test models.
func vitLayout(patch, defLayers, heads int) func(b *builder) {
	return func(b *builder) {
		d := b.out("conv_proj", 768)
		if heads <= 0 {
			heads = max(1, d/64)
		}
		layers := defLayers
		if b.state != nil {
			layers = 0
			for b.state["encoder.layers.encoder_layer_"+strconv.Itoa(layers)+".ln_1.weight"] != nil {
				layers++
			}
		}
		mlp := b.out("encoder.layers.encoder_layer_0.mlp.0", 4*d)
		tokens := 224 / patch * (224 / patch)
		if t := b.state["encoder.pos_embedding"]; t != nil && len(t.Shape) == 3 && t.Shape[1] > 1 {
			tokens = t.Shape[1] - 1
		}
		side := int(math.Round(math.Sqrt(float64(tokens))))
		if side*side != tokens {
			side = 224 / patch // reported as a mis-shaped pos_embedding
			tokens = side * side
		}
		b.g.InputShape = []int{-1, 3, side * patch, side * patch}
		s := tokens + 1

		cls := b.tensor("class_token", "embedding", 1, 1, d)
		v := b.seq("conv_proj", "Conv2d", b.conv("conv_proj", 3, d, patch, patch, 0, true), 0)
		v = b.free("flatten", &nn.Reshape{Shape: []int{0, d, -1}}, v)
		v = b.free("permute", &nn.Transpose{Perm: []int{0, 2, 1}}, v)
		c := b.free("class_token", &nn.BatchConst{Const: cls, Shape: []int{0, 1, d}, Scale: []int{1, 0, 0}}, 0)
		v = b.free("cat", &nn.Concat{Axis: 1}, c, v)
		pos := b.tensor("encoder.pos_embedding", "embedding", 1, s, d)
		v = b.free("encoder.pos_embedding", &nn.Binary{Op: nn.OpAdd, Const: pos}, v)
		v = b.seq("encoder.dropout", "Dropout", dropout, v)
		for i := 0; i < layers; i++ {
			v = vitBlock(b, "encoder.layers.encoder_layer_"+strconv.Itoa(i), v, d, heads, mlp)
		}
		v = b.seq("encoder.ln", "LayerNorm", b.layerNorm("encoder.ln", d), v)
		v = b.free("class_token_out", &nn.Gather{Axis: 1, Indices: []int{0}, Scalar: true}, v)
		b.seq("heads.head", "Linear", b.linear("heads.head", d, b.out("heads.head", b.classes), "final"), v)
	}
}

// vitBlock adds one EncoderBlock p on x and returns its output.
func vitBlock(b *builder, p string, x, d, heads, mlp int) int {
	dh := d / heads
	a := p + ".self_attention"
	b.leaf(p+".ln_1", "LayerNorm")
	b.leaf(a+".out_proj", "NonDynamicallyQuantizableLinear")
	b.leaf(p+".dropout", "Dropout")
	b.leaf(p+".ln_2", "LayerNorm")
	for i, typ := range []string{"Linear", "GELU", "Dropout", "Linear", "Dropout"} {
		b.leaf(p+".mlp."+strconv.Itoa(i), typ)
	}
	v := b.node(p+".ln_1", b.layerNorm(p+".ln_1", d), x)
	inProj := &nn.Linear{W: b.tensor(a+".in_proj_weight", "linear", 3*d, d), B: b.tensor(a+".in_proj_bias", "bias", 3*d)}
	qkv := b.free(a+".in_proj", inProj, v)
	split := func(name string, k, perm3 int) int {
		t := b.free(a+"."+name, &nn.Slice{Axes: []int{2}, Starts: []int{k * d}, Ends: []int{(k + 1) * d}, Steps: []int{1}}, qkv)
		t = b.free(a+"."+name+".heads", &nn.Reshape{Shape: []int{0, 0, heads, dh}}, t)
		perm := []int{0, 2, 1, 3}
		if perm3 != 0 {
			perm = []int{0, 2, 3, 1}
		}
		return b.free(a+"."+name+".permute", &nn.Transpose{Perm: perm}, t)
	}
	q := split("q", 0, 0)
	q = b.free(a+".q.scale", &nn.Binary{Op: nn.OpDiv, Const: tensor.FromData([]float32{float32(math.Sqrt(float64(dh)))}, 1)}, q)
	k := split("k", 1, 1)
	val := split("v", 2, 0)
	sc := b.free(a+".scores", nn.MatMul{}, q, k)
	att := b.free(a+".softmax", &nn.Softmax{Axis: -1}, sc)
	o := b.free(a+".context", nn.MatMul{}, att, val)
	o = b.free(a+".context.permute", &nn.Transpose{Perm: []int{0, 2, 1, 3}}, o)
	o = b.free(a+".context.merge", &nn.Reshape{Shape: []int{0, 0, d}}, o)
	o = b.node(a+".out_proj", b.linear(a+".out_proj", d, d, "linear"), o)
	o = b.node(p+".dropout", dropout, o)
	x = b.free(p+".add_1", &nn.Binary{Op: nn.OpAdd}, x, o)
	v = b.node(p+".ln_2", b.layerNorm(p+".ln_2", d), x)
	v = b.node(p+".mlp.0", b.linear(p+".mlp.0", d, mlp, "linear"), v)
	v = b.node(p+".mlp.1", nn.GELU{}, v)
	v = b.node(p+".mlp.2", dropout, v)
	v = b.node(p+".mlp.3", b.linear(p+".mlp.3", mlp, d, "linear"), v)
	v = b.node(p+".mlp.4", dropout, v)
	return b.free(p+".add_2", &nn.Binary{Op: nn.OpAdd}, x, v)
}

// layerNorm returns the LayerNorm module over d features (eps 1e-6, as
// torchvision's ViT).
func (b *builder) layerNorm(module string, d int) *nn.LayerNorm {
	w := b.tensor(module+".weight", "bn.weight", d)
	bias := b.tensor(module+".bias", "bn.bias", d)
	if w == nil {
		w = tensor.New(d) // placeholder; Build reports the error
	}
	return &nn.LayerNorm{Gamma: w, Beta: bias, Eps: 1e-6}
}
