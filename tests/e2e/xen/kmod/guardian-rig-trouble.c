// SPDX-License-Identifier: GPL-2.0
/*
 * guardian-rig-trouble: kernel trouble on demand, for the real-Xen rig only
 * (tests/e2e/xen/README.md, "Kernel trouble"). Debian's kernel has no LKDTM
 * (CONFIG_LKDTM is not set), so the rig builds this small module against the
 * domU kernel's headers. Writing one word to /proc/guardian-rig-trouble makes
 * the kernel report what guardiand's trouble watch must recognise:
 *
 *   warn            a WARNING with a call trace (the kernel goes on)
 *   oops            a NULL pointer write in process context: an oops that
 *                   kills the writing process (the kernel goes on, tainted)
 *   softlockup N    N seconds spinning with preemption disabled: the soft
 *                   lockup detector's "BUG: soft lockup" (set
 *                   kernel.watchdog_thresh low first; N > 2 * thresh)
 *   hungtask N      N seconds in uninterruptible sleep: "INFO: task ...
 *                   blocked for more than" (set hung_task_timeout_secs low)
 *   panic           panic(): the boot ends here
 *
 * Each trigger is a function of its own, kept out of line, so the call trace
 * (and with it guardian's signature) names it.
 */
#include <linux/delay.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/panic.h>
#include <linux/preempt.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/uaccess.h>

/* Read through a volatile pointer so the compiler keeps the faulting write. */
static int *volatile rig_null_target;

static noinline void rig_trouble_warn(void)
{
	WARN(1, "guardian rig: deliberate warning\n");
}

static noinline void rig_trouble_oops(void)
{
	*rig_null_target = 1;
}

static noinline void rig_trouble_softlockup(unsigned int seconds)
{
	unsigned int i;

	preempt_disable();
	for (i = 0; i < seconds * 10; i++)
		mdelay(100);
	preempt_enable();
}

static noinline void rig_trouble_hungtask(unsigned int seconds)
{
	schedule_timeout_uninterruptible((long)seconds * HZ);
}

static noinline void rig_trouble_panic(void)
{
	panic("guardian rig: deliberate panic");
}

static ssize_t rig_trouble_write(struct file *file, const char __user *ubuf, size_t len,
				 loff_t *pos)
{
	char buf[32];
	unsigned int seconds = 0;
	char *arg;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	strim(buf);
	arg = strchr(buf, ' ');
	if (arg) {
		*arg++ = '\0';
		if (kstrtouint(skip_spaces(arg), 10, &seconds) || seconds == 0 || seconds > 600)
			return -EINVAL;
	}
	pr_info("guardian-rig-trouble: %s %u\n", buf, seconds);
	if (!strcmp(buf, "warn"))
		rig_trouble_warn();
	else if (!strcmp(buf, "oops"))
		rig_trouble_oops();
	else if (!strcmp(buf, "softlockup") && seconds)
		rig_trouble_softlockup(seconds);
	else if (!strcmp(buf, "hungtask") && seconds)
		rig_trouble_hungtask(seconds);
	else if (!strcmp(buf, "panic"))
		rig_trouble_panic();
	else
		return -EINVAL;
	return len;
}

static const struct proc_ops rig_trouble_ops = {
	.proc_write = rig_trouble_write,
};

static struct proc_dir_entry *rig_trouble_entry;

static int __init rig_trouble_init(void)
{
	rig_trouble_entry = proc_create("guardian-rig-trouble", 0200, NULL, &rig_trouble_ops);
	return rig_trouble_entry ? 0 : -ENOMEM;
}

static void __exit rig_trouble_exit(void)
{
	proc_remove(rig_trouble_entry);
}

module_init(rig_trouble_init);
module_exit(rig_trouble_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("guardian rig: kernel trouble on demand (test only)");
MODULE_VERSION("guardian-rig-trouble");
