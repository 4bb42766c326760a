"""pystd's GitHub App and command line: everything that knows about HTTP, git or GitHub."""
