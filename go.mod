module github.com/xai-go/lrp

go 1.26.8

require google.golang.org/protobuf v1.36.12

require golang.org/x/image v0.48.0

require golang.org/x/sys v0.50.0 // indirect
