console.log('bramble');
