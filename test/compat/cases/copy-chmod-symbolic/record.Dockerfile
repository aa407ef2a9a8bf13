FROM busybox
COPY --chmod=0755 run.sh /usr/local/bin/run
COPY --chmod=0644 conf/ /etc/app/
COPY --chmod=0600 conf/app.conf /root/private.conf
RUN stat -c '%n %a' /usr/local/bin/run /etc/app /etc/app/* /root/private.conf > /modes.txt
