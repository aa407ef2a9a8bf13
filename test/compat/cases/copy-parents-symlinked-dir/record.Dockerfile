FROM busybox
COPY a/real /out/a/real
RUN find /out | sort > /listing.txt
