// Command standin plays the course's workload images (assets/course/
// images.yaml) in the offline kind node image's tests, where nginx, httpd,
// redis, postgres and polinux/stress cannot be pulled. Its first argument
// names the image; it does what the labs rely on and nothing more:
//
//	nginx, httpd  answer HTTP on :80 from the image's document root: the
//	              paths images.yaml lists for the image, 404 for others
//	redis         answer RESP on :6379 (PING, and +OK to the rest)
//	postgres      exit 1 with postgres's message unless a superuser password
//	              (or trust) is set; otherwise keep PG_VERSION in PGDATA
//	              and accept connections on :5432
//	stress        take --vm-bytes of memory and hold it, as stress --vm-hang
//
// Run through a link named after a command the real image has on its PATH
// (polinux/stress's stress, which a lab's `command: ["stress"]` runs), the
// link's name is the image.
//
// busybox is Debian's busybox-static, not this program.
package main

import (
	"bufio"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	role, args, ok := roleOf(os.Args)
	if !ok {
		log.Fatal("usage: standin nginx|httpd|redis|postgres|stress [args]")
	}
	switch role {
	case "nginx":
		serveHTTP(":80", docRoot["nginx"], defaultContent["nginx"])
	case "httpd":
		serveHTTP(":80", docRoot["httpd"], defaultContent["httpd"])
	case "redis":
		serveRedis()
	case "postgres":
		postgres()
	case "stress":
		stress(args)
	default:
		log.Fatalf("standin: unknown image %q", role)
	}
}

// roleOf is the image argv plays and its own arguments: the first argument
// when run as standin, else the name it was run by (a link such as
// /usr/local/bin/stress).
func roleOf(argv []string) (role string, args []string, ok bool) {
	if len(argv) == 0 {
		return "", nil, false
	}
	if name := filepath.Base(argv[0]); name != "standin" {
		return name, argv[1:], true
	}
	if len(argv) < 2 {
		return "", nil, false
	}
	return argv[1], argv[2:], true
}

// docRoot is where each web server's image keeps what it serves, as
// images.yaml's root says (main_test.go holds the two to each other): a
// volume a lab mounts there is served, as by the real image.
var docRoot = map[string]string{
	"nginx": "/usr/share/nginx/html",
	"httpd": "/usr/local/apache2/htdocs",
}

// defaultContent is what each web server's image holds in its document
// root, by file name: the paths images.yaml lists for it (/ is
// index.html), and no other (main_test.go holds the two to each other).
// A lab that probes /healthz gets 404 here, as from the real image.
var defaultContent = map[string]map[string]string{
	"nginx": {
		"index.html": "<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head>\n<body><h1>Welcome to nginx!</h1></body></html>\n",
		"50x.html":   "<!DOCTYPE html>\n<html><head><title>Error</title></head>\n<body><h1>An error occurred.</h1></body></html>\n",
	},
	"httpd": {
		"index.html": "<html><body><h1>It works!</h1></body></html>\n",
	},
}

// serveHTTP serves root's files on addr, writing the image's default
// content where the image (or a volume mounted there) has none.
func serveHTTP(addr, root string, content map[string]string) {
	_ = os.MkdirAll(root, 0o755)
	for name, body := range content {
		if _, err := os.Stat(filepath.Join(root, name)); err != nil {
			_ = os.WriteFile(filepath.Join(root, name), []byte(body), 0o644)
		}
	}
	log.Fatal(http.ListenAndServe(addr, fileHandler(root)))
}

// fileHandler answers a request for a regular file under root (/ is
// index.html) with it and anything else with 404, as nginx's and httpd's
// default servers do; unlike http.FileServer it neither lists
// directories nor redirects /index.html to /.
func fileHandler(root string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.Printf("%s %s %s", r.RemoteAddr, r.Method, r.URL.Path)
		name := path.Clean("/" + r.URL.Path)
		if name == "/" {
			name = "/index.html"
		}
		f, err := os.Open(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil || !st.Mode().IsRegular() {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, name, st.ModTime(), f)
	})
}

func serveRedis() {
	l, err := net.Listen("tcp", ":6379")
	if err != nil {
		log.Fatal(err)
	}
	log.Print("Ready to accept connections tcp")
	for {
		c, err := l.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func() {
			defer c.Close()
			s := bufio.NewScanner(c)
			for s.Scan() {
				line := strings.ToUpper(strings.TrimSpace(s.Text()))
				switch {
				case line == "PING" || strings.HasSuffix(line, "PING"):
					fmt.Fprint(c, "+PONG\r\n")
				case strings.HasPrefix(line, "*") || strings.HasPrefix(line, "$"):
					// A RESP array header or bulk length: the command follows.
				default:
					fmt.Fprint(c, "+OK\r\n")
				}
			}
		}()
	}
}

func postgres() {
	if os.Getenv("POSTGRES_PASSWORD") == "" && os.Getenv("POSTGRES_PASSWORD_FILE") == "" && os.Getenv("POSTGRES_HOST_AUTH_METHOD") == "" {
		fmt.Fprintln(os.Stderr, "Error: Database is uninitialized and superuser password is not specified.")
		os.Exit(1)
	}
	data := os.Getenv("PGDATA")
	if data == "" {
		data = "/var/lib/postgresql/data"
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		log.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		if err := os.WriteFile(filepath.Join(data, "PG_VERSION"), []byte("17\n"), 0o600); err != nil {
			log.Fatal(err)
		}
		log.Print("database system initialized")
	} else {
		log.Print("PostgreSQL Database directory appears to contain a database; Skipping initialization")
	}
	l, err := net.Listen("tcp", ":5432")
	if err != nil {
		log.Fatal(err)
	}
	log.Print("database system is ready to accept connections")
	for {
		c, err := l.Accept()
		if err != nil {
			log.Fatal(err)
		}
		_ = c.Close()
	}
}

// stress holds --vm-bytes (default 256M) of touched memory until killed.
func stress(args []string) {
	size := int64(256 << 20)
	for i, a := range args {
		if a == "--vm-bytes" && i+1 < len(args) {
			n, err := parseBytes(args[i+1])
			if err != nil {
				log.Fatalf("stress: --vm-bytes %s: %v", args[i+1], err)
			}
			size = n
		}
	}
	log.Printf("stress: info: [1] dispatching hogs: 0 cpu, 0 io, 1 vm, 0 hdd (%d bytes)", size)
	buf := make([]byte, size)
	for i := range buf {
		if i%4096 == 0 {
			buf[i] = 1
		}
	}
	for {
		time.Sleep(time.Hour)
		buf[0]++
	}
}

func parseBytes(s string) (int64, error) {
	mult := int64(1)
	switch strings.ToUpper(s[len(s)-1:]) {
	case "K":
		mult = 1 << 10
	case "M":
		mult = 1 << 20
	case "G":
		mult = 1 << 30
	case "B":
	default:
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err
	}
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	return n * mult, err
}
