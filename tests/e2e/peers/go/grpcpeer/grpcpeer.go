// SPDX-License-Identifier: Apache-2.0

// gRPC-Go over TLS (Debian's golang-google-grpc-dev), for cleartap's tests: the standard
// health service, whose generated code ships with grpc-go.
//
//	grpcpeer server PORT CERT KEY   serve grpc.health.v1.Health until SIGTERM
//	grpcpeer client ADDR SERVICE    call Check(SERVICE); print the status, or the gRPC code
package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

func server(port, cert, key string) {
	creds, err := credentials.NewServerTLSFromFile(cert, key)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s := grpc.NewServer(grpc.Creds(creds))
	h := health.NewServer()
	h.SetServingStatus("cleartap.Test", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(s, h)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		s.Stop()
	}()
	fmt.Println("ready")
	s.Serve(ln)
}

func client(addr, service string) {
	creds := credentials.NewTLS(&tls.Config{InsecureSkipVerify: true})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, addr, grpc.WithTransportCredentials(creds), grpc.WithBlock())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		fmt.Println("code", status.Code(err).String())
		return
	}
	fmt.Println("status", resp.Status.String())
}

func main() {
	if len(os.Args) == 5 && os.Args[1] == "server" {
		server(os.Args[2], os.Args[3], os.Args[4])
		return
	}
	if len(os.Args) == 4 && os.Args[1] == "client" {
		client(os.Args[2], os.Args[3])
		return
	}
	fmt.Fprintln(os.Stderr, "usage: grpcpeer server PORT CERT KEY | client ADDR SERVICE")
	os.Exit(2)
}
