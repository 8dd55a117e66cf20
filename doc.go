// Package lrp explains the decisions of image classifiers by Layer-wise
// Relevance Propagation (LRP): it distributes a class's logit backwards
// through the network, layer by layer, onto the input pixels. It follows
// Zennit's rules and composites and, where asked, the conventions of the
// thesis code "In-Depth Hyperparameter Selection For Layer-Wise Relevance
// Propagation" (TU Berlin, 2022). Gradient-based methods and occlusion are
// included as baselines.
//
// # The whole path
//
// A model is an *nn.Graph from one of three places: an embedded trained
// model (models.Lookup("mnist").Graph), an ONNX file (onnx.Load), or a
// torchvision architecture with PyTorch weights (torchvision.Build with the
// state_dict that weights.Load reads from a .pth or .safetensors file). Images become
// model inputs exactly as torchvision preprocesses them (data.Lookup,
// Preprocess.Apply). Then (errors left out here; Example has them):
//
//	low, high, _ := pre.Bounds(x.Shape)            // box-rule bounds: images of pixels 0 and 1
//	composite, _ := lrp.LookupComposite(lrp.DefaultComposite)
//	rules, _ := composite.Build(g, lrp.Params{Low: low, High: high})
//	explainer, _ := lrp.NewExplainer(g, rules)     // build once, use for every batch
//	res, _ := explainer.Explain(x, lrp.Options{})  // res.Relevance is shaped like x
//	mean, std, _ := pre.MeanStd(x.Shape[1])
//	flips, _ := eval.Run(g, x, res.Relevance, res.Targets, eval.Config{Patch: 4, Mean: mean, Std: std})
//	viz.SavePNG("heatmap.png", viz.Heatmap(res.Relevance.Batch(0)))
//
// Relevance starts at the target logit (the predicted class unless
// Options.Targets says otherwise) and, for rules that conserve it, sums to
// that logit minus what biases and stabilizers absorb.
//
// An Explainer keeps the modified weights its rules need (ρ(W) of the γ
// rule, for example) in a ParamCache, so it should be built once and used
// for every batch; explainers of the same graph may share one cache
// (NewSharedExplainer), as a sweep over γ does.
//
// # Rule maps and selectors
//
// A RuleMap assigns a Rule to each affine layer (convolution, linear,
// average pooling); the first entry whose selector matches gives the rule.
// ParseRuleMap reads the spec syntax
//
//	0:zbox(low=-2.1179,high=2.64);1-16:gamma(0.25);17-30:epsilon(0.25);31-:zero
//
// whose selectors are a layer index "3", a range "1-16" or "31-", a layer
// type ("conv", "linear", "avgpool", "*", "type=NAME") or a layer-name glob
// ("features.1*", "name=GLOB"). Indices, names and types are those lrp
// layers lists. ReadRuleMapFile reads the same entries one per line, or as
// a JSON list of {"select", "rule"}. Layers without a rule pass relevance
// by fixed rules (see Explainer).
//
// A Composite builds a rule map for a given model from a few parameters
// (Params: ε, γ, box bounds): Zennit's epsilon-gamma-box (DefaultComposite),
// epsilon-plus, epsilon-plus-flat, epsilon-alpha2-beta1 and
// epsilon-alpha2-beta1-flat, and the thesis presets lrp-tutorial and
// decreasing-gamma. LookupComposite finds them by name; RegisterComposite
// adds more.
//
// # Rules
//
// For a layer z_k = Σ_j x_j w_jk + b_k with relevance R_k at its output, and
// the stabilizer stab(z) = z + ε·(sign(z) + [z = 0]) (ε = 1e-6 unless the
// rule sets it), the rules compute the input relevance R_j as
//
//	zero, epsilon(ε)   R_j = x_j Σ_k w_jk R_k / stab(z_k)
//	gamma(γ)           as epsilon with w + γw⁺ for positive and w + γw⁻ for negative contributions
//	alphabeta(α,β)     α·(positive contributions) − β·(negative contributions), α − β = 1; zplus is α=1, β=0
//	zbox(low,high)     R_j = Σ_k (x_j w_jk − l_j w⁺_jk − h_j w⁻_jk) R_k / stab(z_k − Σ_i (l_i w⁺_ik + h_i w⁻_ik)), for l ≤ x ≤ h
//	flat, wsquare      R_j = Σ_k ρ(w_jk) R_k / stab(Σ_j ρ(w_jk)) with ρ(w) = 1 or w²
//	pass               relevance passes unchanged
//
// Each rule type's documentation gives its exact form (biases, the thesis
// variants, the generalized γ rule of Andéol et al.). The flags zero_bias
// and thesis select the bias-free and thesis-code variants, e.g.
// "epsilon(0.25,zero_bias)".
//
// # Attribution methods
//
// An Attributor computes relevance for a batch: Explainer (LRP), Gradient,
// SmoothGrad, IntegratedGradients, Occlusion and Random. NewAttributor
// builds one by name ("lrp", "lrp:COMPOSITE", "gradient", "gradxinput",
// "smoothgrad", "integrated-gradients", "occlusion", "random"; see
// MethodNames) from MethodOptions, as the command line does, and
// AttributeInBatches bounds the memory an attribution needs.
//
// # Evaluation and pictures
//
// Package eval measures how faithful an attribution is by pixel flipping
// (Run, Merge, Summarize: AUC, AOPC, ABPC); package viz draws heatmaps,
// curves and reports; package sweep runs grids of rule parameters over a
// dataset.
package lrp
