FROM busybox
RUN mkdir -p /opt/heredoc && echo "first" > /opt/heredoc/one && echo "second" > /opt/heredoc/two
COPY app.conf /etc/app.conf
COPY --chmod=0755 hello.sh /usr/local/bin/hello
RUN /usr/local/bin/hello > /hello.txt
