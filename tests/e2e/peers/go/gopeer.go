// SPDX-License-Identifier: Apache-2.0

// Go's net/http over crypto/tls, for cleartap's tests: what it sent and received is printed,
// as the independent truth the capture is checked against.
//
//	gopeer client URL N CONCURRENCY h1|h2 POST|GET
//	                                        N requests to /item/<i> (POST: body "request <i>") on
//	                                        one client, CONCURRENCY goroutines at a time; one JSON
//	                                        line per response
//	gopeer server PORT CERT KEY              HTTPS (h2 and http/1.1) until SIGTERM: each
//	                                        request is answered "<path> got <body>"
//	gopeer wait                              exit when stdin closes (a process to probe)
package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

type result struct {
	Index    int    `json:"index"`
	Status   int    `json:"status"`
	Protocol string `json:"protocol"`
	Sent     string `json:"sent"`
	Body     string `json:"body"`
	Error    string `json:"error,omitempty"`
}

func client(url string, n, concurrency int, proto, method string) {
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
		ForceAttemptHTTP2: proto == "h2",
	}
	if proto != "h2" {
		// an empty map turns HTTP/2 off: ALPN offers http/1.1 only
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	c := &http.Client{Transport: tr}
	results := make(chan result, n)
	slots := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		slots <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-slots }()
			sent := fmt.Sprintf("request %d", i)
			var body io.Reader
			if method == "GET" {
				sent = ""
			} else {
				body = bytes.NewBufferString(sent)
			}
			r := result{Index: i, Sent: sent}
			req, err := http.NewRequest(method, fmt.Sprintf("%s/item/%d", url, i), body)
			if err != nil {
				panic(err)
			}
			resp, err := c.Do(req)
			if err != nil {
				r.Error = err.Error()
				results <- r
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				r.Error = err.Error()
			}
			r.Status, r.Protocol, r.Body = resp.StatusCode, resp.Proto, string(b)
			results <- r
		}(i)
	}
	wg.Wait()
	close(results)
	failed := false
	out := json.NewEncoder(os.Stdout)
	for r := range results {
		failed = failed || r.Error != ""
		out.Encode(r)
	}
	tr.CloseIdleConnections()
	// Linger: the capture of a process's last reads racing its exit record under load is
	// followed separately (one run in the full suite lost the last two h2 response bodies).
	time.Sleep(500 * time.Millisecond)
	if failed {
		os.Exit(1)
	}
}

func server(port, cert, key string) {
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "%s got %s", r.URL.Path, b)
	})
	srv := &http.Server{Handler: h}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		srv.Close()
	}()
	fmt.Println("ready")
	if err := srv.ServeTLS(ln, cert, key); err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func main() {
	if len(os.Args) == 7 && os.Args[1] == "client" {
		n, _ := strconv.Atoi(os.Args[3])
		c, _ := strconv.Atoi(os.Args[4])
		client(os.Args[2], n, c, os.Args[5], os.Args[6])
		return
	}
	if len(os.Args) == 5 && os.Args[1] == "server" {
		server(os.Args[2], os.Args[3], os.Args[4])
		return
	}
	if len(os.Args) == 2 && os.Args[1] == "wait" {
		io.Copy(io.Discard, os.Stdin)
		return
	}
	fmt.Fprintln(os.Stderr, "usage: gopeer client URL N CONCURRENCY h1|h2 POST|GET | server PORT CERT KEY | wait")
	os.Exit(2)
}
