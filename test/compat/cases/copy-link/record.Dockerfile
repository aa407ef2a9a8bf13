FROM busybox
RUN mkdir -p /srv/www && echo base > /srv/www/base.txt
COPY site/ /linked-site/
COPY --chmod=0600 app.conf /linked-app.conf
COPY --chown=65534:65534 site/index.html /owned-index.html
COPY site/style.css /srv/www/
RUN stat -c "%n %a %u:%g %s" /linked-site /linked-site/* /linked-app.conf /owned-index.html /srv/www/* > /listing.txt
