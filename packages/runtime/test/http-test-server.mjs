// A real HTTP server for the HTTP tests, run in a worker thread: the test's own thread blocks while
// a plug-in's request is in flight, so the server cannot share it.
import { createServer } from 'node:http';
import { parentPort } from 'node:worker_threads';

let served = 0;
const server = createServer((request, response) => {
  served++;
  const url = new URL(request.url, 'http://localhost');
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    const n = Number(url.searchParams.get('n') ?? 0);
    switch (url.pathname) {
      case '/hello':
        response.writeHead(200, { 'content-type': 'text/plain', 'x-served-by': 'tenon-test' }).end('hello');
        break;
      case '/echo':
        response.end(`${request.method} ${request.headers['x-tenon'] ?? '-'} ${body}`);
        break;
      case '/bytes':
        response.writeHead(200, { 'content-length': n }).end('a'.repeat(n));
        break;
      case '/big-headers': // a header of n bytes and a body of m
        response.writeHead(200, { 'x-big': 'h'.repeat(n) }).end('b'.repeat(Number(url.searchParams.get('m') ?? 0)));
        break;
      case '/stream': // no content-length: the size shows only as the body arrives
        for (let i = 0; i < n; i += 1024) response.write('a'.repeat(Math.min(1024, n - i)));
        response.end();
        break;
      case '/slow':
        setTimeout(() => response.end('late'), Number(url.searchParams.get('ms')));
        break;
      case '/redirect':
        response.writeHead(302, { location: url.searchParams.get('to') }).end();
        break;
      case '/status':
        response.writeHead(Number(url.searchParams.get('code'))).end('status');
        break;
      case '/served':
        response.end(String(served - 1));
        break;
      default:
        response.writeHead(404).end();
    }
  });
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
parentPort.on('message', () => server.close(() => process.exit(0)));
