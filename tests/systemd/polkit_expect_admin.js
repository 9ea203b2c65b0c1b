// The administrator's copy listing "nginx.service": ["reload"] and "myapp.service": ["restart"].
var certagent = subjectOf("certagent");
expect("certagent reload nginx.service", polkit._run(unitAction("nginx.service", "reload"), certagent), "yes");
expect("certagent restart myapp.service", polkit._run(unitAction("myapp.service", "restart"), certagent), "yes");
// Another verb on a listed unit.
expect("certagent restart nginx.service", polkit._run(unitAction("nginx.service", "restart"), certagent), null);
expect("certagent reload myapp.service", polkit._run(unitAction("myapp.service", "reload"), certagent), null);
expect("certagent stop nginx.service", polkit._run(unitAction("nginx.service", "stop"), certagent), null);
expect("certagent start nginx.service", polkit._run(unitAction("nginx.service", "start"), certagent), null);
// Another unit, and names that only look like a listed one.
expect("certagent reload ssh.service", polkit._run(unitAction("ssh.service", "reload"), certagent), null);
expect("certagent reload nginx", polkit._run(unitAction("nginx", "reload"), certagent), null);
expect("certagent reload hasOwnProperty", polkit._run(unitAction("hasOwnProperty", "reload"), certagent), null);
expect("certagent reload toString", polkit._run(unitAction("toString", "reload"), certagent), null);
expect("certagent reload (no unit detail)", polkit._run(unitAction(undefined, "reload"), certagent), null);
// Another user, another action.
expect("www-data reload nginx.service", polkit._run(unitAction("nginx.service", "reload"), subjectOf("www-data")), null);
expect("root reload nginx.service", polkit._run(unitAction("nginx.service", "reload"), subjectOf("root")), null);
expect("certagent manage-unit-files nginx.service",
       polkit._run(unitAction("nginx.service", "reload", "org.freedesktop.systemd1.manage-unit-files"), certagent), null);
expect("certagent reload-daemon", polkit._run(unitAction("nginx.service", "reload", "org.freedesktop.systemd1.reload-daemon"), certagent), null);
done();
